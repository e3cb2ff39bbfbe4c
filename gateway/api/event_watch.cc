#include "gateway/api/event_watch.h"

#include <utility>

#include "gateway/api/sse_frames.h"

namespace calndro::gateway {

EventWatch::EventWatch(OpenCalls& calls, std::string base, v1::WatchEventRequest request)
    : ticket_(calls), base_(std::move(base)), request_(std::move(request)) {}

std::shared_ptr<EventWatch> EventWatch::start(EventClient& client, const CallMetadata& meta,
                                              const v1::WatchEventRequest& request, std::string base,
                                              WaitForReady wait) {
  auto watch = std::make_shared<EventWatch>(client.open_calls(), std::move(base), request);
  watch->self_ = watch;
  client.watch_event(watch->context_, meta, watch->request_, watch.get(), wait);
  watch->StartRead(&watch->incoming_);
  watch->StartCall();
  return watch;
}

EventWatch::Opening EventWatch::wait_until_open(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  if (!opened_.wait_until(lock, deadline, [this] { return open_ || call_done_; })) {
    lock.unlock();
    cancel();
    return Opening::kTimedOut;
  }
  return open_ ? Opening::kOpen : Opening::kEnded;
}

grpc::Status EventWatch::status() {
  std::lock_guard lock(mutex_);
  return status_;
}

void EventWatch::set_wake(std::function<void()> wake) {
  std::lock_guard lock(mutex_);
  wake_ = std::move(wake);
  if (!event_frame_.empty() || heartbeat_ || finished_) {
    ring_locked();
  }
}

LiveStream::Output EventWatch::take() {
  std::lock_guard lock(mutex_);
  Output output;
  // The event supersedes a heartbeat: either shows the stream is alive.
  output.bytes = event_frame_.empty() && heartbeat_ ? std::string(kKeepAliveFrame) : std::move(event_frame_);
  event_frame_.clear();
  heartbeat_ = false;
  if (finished_) {
    output.bytes += last_frame_;
    last_frame_.clear();
    output.after = After::kEnd;
  }
  return output;
}

void EventWatch::cancel() {
  std::lock_guard lock(mutex_);
  // After OnDone the call is gone; cancelling it then changes nothing.
  if (!call_done_ && !cancelled_) {
    cancelled_ = true;
    context_.TryCancel();
  }
}

void EventWatch::OnReadDone(bool ok) {
  if (!ok) {
    return;  // the call has ended: OnDone follows
  }
  bool more = true;
  {
    std::lock_guard lock(mutex_);
    const bool news = keep_locked(incoming_);
    more = last_frame_.empty();
    if (!open_) {
      open_ = true;
      opened_.notify_all();
    }
    if (news) {
      ring_locked();
    }
  }
  if (more) {
    StartRead(&incoming_);
  }
}

bool EventWatch::keep_locked(const v1::EventChange& change) {
  switch (change.change_case()) {
    case v1::EventChange::kEvent:
      event_frame_ = change_frame(change.event(), base_);
      return true;
    case v1::EventChange::kDeleted:
      last_frame_ = deleted_frame(change.deleted().id());
      // The service ends the call after it; the client need not wait for that.
      finished_ = true;
      return true;
    case v1::EventChange::kHeartbeat:
      heartbeat_ = true;
      return true;
    case v1::EventChange::CHANGE_NOT_SET:
      break;
  }
  return false;
}

void EventWatch::OnDone(const grpc::Status& status) {
  std::shared_ptr<EventWatch> self;
  {
    std::lock_guard lock(mutex_);
    self = std::move(self_);
    status_ = status;
    call_done_ = true;
    finished_ = true;
    opened_.notify_all();
    ring_locked();
  }
  // `self` may be the last reference: the watch goes with it, after the lock.
}

void EventWatch::ring_locked() const {
  if (wake_) {
    wake_();
  }
}

}  // namespace calndro::gateway
