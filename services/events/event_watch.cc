#include "events/event_watch.h"

#include "common/base/log.h"
#include "common/grpc/rich_status.h"

namespace calndro::events {
namespace {

v1::EventChange heartbeat() {
  v1::EventChange change;
  change.mutable_heartbeat();
  return change;
}

}  // namespace

EventWatch::EventWatch(EventStreams& streams, const WatchHooks& hooks) : streams_(streams), hooks_(hooks) {}

void EventWatch::await(EventStreams& streams, const WatchHooks& hooks) {
  auto watch = std::make_shared<EventWatch>(streams, hooks);
  watch->self_ = watch;
  // Before the call starts, or gRPC never reports its end.
  watch->context_.AsyncNotifyWhenDone(&watch->done_tag_);
  hooks.request(&watch->context_, &watch->request_, &watch->writer_, &watch->accepted_tag_);
}

void EventWatch::complete(void* tag, bool ok) {
  auto* completion = static_cast<Completion*>(tag);
  (completion->watch->*completion->run)(ok);
}

void EventWatch::accepted(bool ok) {
  if (!ok) {
    // The server stops before a call came: gRPC reports nothing more of it.
    std::lock_guard lock(mutex_);
    call_done_ = true;
    finished_ = true;
    release_when_idle_locked();
    return;
  }
  hooks_.accepted();
  // Read on this thread before any job is posted; the jobs read them after.
  credentials_ = hooks_.credentials(context_);
  event_id_ = request_.id();
  std::lock_guard lock(mutex_);
  started_ = Steady::now();
  sent_version_ = std::max<std::int64_t>(request_.after_version(), 0);
  looking_ = true;
  streams_.post([watch = shared_from_this()] { watch->open(); });
}

void EventWatch::open() {
  // Following before looking: a change committed while the look runs is
  // not missed (it makes the look run once more).
  streams_.follow(event_id_, shared_from_this());
  const WatchLook look = hooks_.look(credentials_, event_id_, LookKind::kOpening);
  std::lock_guard lock(mutex_);
  looking_ = false;
  if (finished_) {
    return;
  }
  if (look.outcome != WatchLook::Outcome::kEvent) {
    finish_locked(to_grpc_status(look.status));
    return;
  }
  if (!streams_.admit(look.caller_key)) {
    // RetryInfo (REST: Retry-After): a place frees when one of the
    // caller's streams closes, which this cannot foresee; soon is a guess.
    finish_locked(to_grpc_status(resource_exhausted("Too many open streams for this caller (at most " +
                                                        std::to_string(streams_.options().per_caller) + ").",
                                                    std::chrono::seconds(5))));
    return;
  }
  opened_ = true;
  caller_key_ = look.caller_key;
  last_checked_ = Steady::now();
  // A version the caller already has is not sent again; any other (newer,
  // or one the caller cannot have had) is.
  const std::int64_t version = look.event.version();
  if (version != sent_version_) {
    sent_version_ = version;
    v1::EventChange change;
    *change.mutable_event() = look.event;
    send_locked(std::move(change));
  } else {
    send_locked(heartbeat());
  }
  if (look_once_more_) {
    look_once_more_ = false;
    schedule_look();
  }
}

void EventWatch::follow_up() {
  const WatchLook look = hooks_.look(credentials_, event_id_, LookKind::kFollowing);
  std::lock_guard lock(mutex_);
  looking_ = false;
  if (finished_) {
    return;
  }
  handle(look);
  if (look_once_more_ && !finished_) {
    look_once_more_ = false;
    schedule_look();
  }
}

void EventWatch::handle(const WatchLook& look) {
  switch (look.outcome) {
    case WatchLook::Outcome::kEvent:
      last_checked_ = Steady::now();
      if (look.event.version() > sent_version_) {
        sent_version_ = look.event.version();
        v1::EventChange change;
        *change.mutable_event() = look.event;
        send_locked(std::move(change));
      }
      return;
    case WatchLook::Outcome::kDeleted: {
      v1::EventChange change;
      change.mutable_deleted()->set_id(event_id_);
      send_locked(std::move(change));
      finish_locked(grpc::Status::OK);
      return;
    }
    case WatchLook::Outcome::kRefused:
      finish_locked(to_grpc_status(look.status));
      return;
    case WatchLook::Outcome::kUnavailable:
      return;  // the next re-check looks again
  }
}

void EventWatch::schedule_look() {
  if (looking_) {
    look_once_more_ = true;
    return;
  }
  looking_ = true;
  streams_.post([watch = shared_from_this()] { watch->follow_up(); });
}

void EventWatch::changed(std::int64_t version) {
  std::lock_guard lock(mutex_);
  if (finished_ || version <= sent_version_) {
    return;
  }
  schedule_look();
}

void EventWatch::look_again() {
  std::lock_guard lock(mutex_);
  if (opened_ && !finished_) {
    schedule_look();
  }
}

void EventWatch::end(const grpc::Status& status) {
  std::lock_guard lock(mutex_);
  finish_locked(status);
}

void EventWatch::tick(Steady::time_point now) {
  std::lock_guard lock(mutex_);
  if (!opened_ || finished_) {
    return;
  }
  if (!writing_ && now - last_sent_ >= streams_.options().heartbeat) {
    send_locked(heartbeat());
  }
  if (now - last_checked_ >= streams_.options().recheck) {
    last_checked_ = now;
    schedule_look();
  }
}

void EventWatch::send_locked(v1::EventChange message) {
  if (finished_ || finish_after_writes_ || call_done_) {
    return;
  }
  last_sent_ = Steady::now();
  if (writing_) {
    waiting_ = std::move(message);  // a newer state replaces one not yet sent
    return;
  }
  writing_ = true;
  in_flight_ = std::move(message);
  writer_.Write(in_flight_, &write_tag_);
}

void EventWatch::finish_locked(const grpc::Status& status) {
  if (finished_) {
    return;
  }
  if (writing_) {
    // Finish goes after the write in flight (and, when the stream ends
    // well, after the deletion waiting behind it).
    if (!status.ok()) {
      waiting_.reset();
    }
    finish_after_writes_ = status;
    return;
  }
  finished_ = true;
  // One line per stream, as serve_rpc writes one per call, when it ends.
  const auto open_for = std::chrono::duration<double, std::milli>(Steady::now() - started_);
  log::info("rpc", {{"method", "WatchEvent"},
                    {"code", static_cast<int>(status.error_code())},
                    {"request_id", credentials_.request_id},
                    {"duration_ms", open_for.count()}});
  if (!call_done_) {
    finishing_ = true;
    writer_.Finish(status, &finish_tag_);
  }
}

void EventWatch::write_done(bool ok) {
  std::lock_guard lock(mutex_);
  writing_ = false;
  if (!ok) {
    waiting_.reset();
    finish_after_writes_.reset();
    finish_locked(grpc::Status(grpc::StatusCode::CANCELLED, "The stream's reader went away."));
  } else if (waiting_ && !call_done_) {
    writing_ = true;
    in_flight_ = std::move(*waiting_);
    waiting_.reset();
    writer_.Write(in_flight_, &write_tag_);
  } else if (finish_after_writes_) {
    const grpc::Status status = *finish_after_writes_;
    finish_locked(status);
  }
  release_when_idle_locked();
}

void EventWatch::finish_done(bool /*ok*/) {
  std::lock_guard lock(mutex_);
  finishing_ = false;
  release_when_idle_locked();
}

void EventWatch::call_done(bool /*ok*/) {
  std::lock_guard lock(mutex_);
  call_done_ = true;
  // Unless we finished it, the client cancelled or went away: no Finish
  // then (the call is over), only the stream's log line.
  finish_locked(grpc::Status(grpc::StatusCode::CANCELLED, "The stream was cancelled."));
  streams_.unfollow(event_id_, this);
  if (opened_) {
    streams_.leave(caller_key_);
    opened_ = false;
  }
  release_when_idle_locked();
}

void EventWatch::release_when_idle_locked() {
  if (!call_done_ || writing_ || finishing_ || self_ == nullptr) {
    return;
  }
  // Not destroyed here, inside our own lock: the last reference goes on a
  // worker (or with the last job that holds one).
  streams_.post([last_reference = std::move(self_)] {});
  hooks_.released();
}

}  // namespace calndro::events
