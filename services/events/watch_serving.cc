#include "events/watch_serving.h"

#include "events/event_service.h"

namespace calndro::events {

WatchServing::WatchServing(EventServiceImpl& service, EventStreams& streams) : streams_(streams) {
  hooks_.look = [&service](const Credentials& credentials, std::int64_t id, LookKind kind) {
    return service.look_for_watch(credentials, id, kind);
  };
  hooks_.credentials = [&service](const grpc::ServerContextBase& context) {
    return service.read_credentials(context);
  };
  hooks_.request = [&service, this](grpc::ServerContext* context, v1::WatchEventRequest* request,
                                    grpc::ServerAsyncWriter<v1::EventChange>* writer, void* tag) {
    service.RequestWatchEvent(context, request, writer, queue_, queue_, tag);
  };
  hooks_.accepted = [this] { await_next(); };
  hooks_.released = [this] {
    std::lock_guard lock(mutex_);
    --unreleased_;
    all_released_.notify_all();
  };
}

WatchServing::~WatchServing() {
  if (thread_.joinable()) {
    stop();
  }
}

void WatchServing::start(grpc::ServerCompletionQueue& queue) {
  queue_ = &queue;
  await_next();
  thread_ = std::thread([this] { run_completions(); });
}

void WatchServing::await_next() {
  std::lock_guard lock(mutex_);
  if (stopping_) {
    return;
  }
  ++unreleased_;
  EventWatch::await(streams_, hooks_);
}

void WatchServing::stop() {
  {
    // The server has stopped: every call is over, and the queue's thread
    // hands each stream its end (a stream still awaiting a call is told
    // none comes). Bounded, should a stream never say so.
    std::unique_lock lock(mutex_);
    all_released_.wait_for(lock, std::chrono::seconds(10), [this] { return unreleased_ == 0; });
    stopping_ = true;
    queue_->Shutdown();
  }
  thread_.join();
}

void WatchServing::run_completions() {
  void* tag = nullptr;
  bool ok = false;
  while (queue_->Next(&tag, &ok)) {
    EventWatch::complete(tag, ok);
  }
}

}  // namespace calndro::events
