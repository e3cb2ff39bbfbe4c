#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "calndro/events/v1/events.grpc.pb.h"
#include "events/authenticator.h"
#include "events/event_streams.h"

// One WatchEvent stream (SPEC §11), on gRPC's async API (watch_serving.h
// says why not the callback API): an open stream holds no thread, only
// this object and its completions on WatchServing's queue. Everything it
// does with the database runs on EventStreams' workers; what it sends goes
// one write at a time, the newest version waiting behind the write in
// flight (older ones waiting are dropped: versions in between may be
// skipped, never the latest).
namespace calndro::events {

// What a stream needs of the service that accepts it (WatchServing's,
// outliving every stream).
struct WatchHooks {
  LookAtEvent look;
  std::function<Credentials(const grpc::ServerContextBase&)> credentials;
  // Asks gRPC for the next WatchEvent call into these; `tag` completes on
  // the serving queue when it came (or, false, when the server stops).
  std::function<void(grpc::ServerContext*, v1::WatchEventRequest*, grpc::ServerAsyncWriter<v1::EventChange>*,
                     void* tag)>
      request;
  // A call came: the service awaits the next one.
  std::function<void()> accepted;
  // The stream is over and gRPC owes it nothing more: from now on it starts
  // no operation on the queue (the service may shut the queue down once
  // every stream it awaited has said so).
  std::function<void()> released;
};

class EventWatch final : public std::enable_shared_from_this<EventWatch> {
 public:
  // A stream that waits for the next WatchEvent call; it lives until that
  // call is done and gRPC has handed back every completion of it.
  static void await(EventStreams& streams, const WatchHooks& hooks);
  // Runs what a completion of the serving queue (one of a stream's tags)
  // means for its stream.
  static void complete(void* tag, bool ok);

  // From EventStreams: a new version of the event committed.
  void changed(std::int64_t version);
  // From EventStreams' ticker: heartbeats and re-checks that are due.
  void tick(std::chrono::steady_clock::time_point now);
  // Look again whatever the version (the feed may have missed changes).
  void look_again();
  // Ends the stream with `status` (after the write in flight).
  void end(const grpc::Status& status);

  EventWatch(EventStreams& streams, const WatchHooks& hooks);

 private:
  using Steady = std::chrono::steady_clock;

  // A completion of the queue: which stream, and what it means to it.
  struct Completion {
    EventWatch* watch;
    void (EventWatch::*run)(bool ok);
  };

  // The queue's completions.
  void accepted(bool ok);
  void write_done(bool ok);
  void finish_done(bool ok);
  void call_done(bool ok);

  // The opening look: access, the limit, then the first message.
  void open();
  // A look after a change or at a re-check.
  void follow_up();
  // Schedules a following look unless one is under way (it then runs once
  // more when done).
  void schedule_look();
  void handle(const WatchLook& look);

  // Callers hold mutex_.
  void send_locked(v1::EventChange message);
  void finish_locked(const grpc::Status& status);
  // Lets the stream go once its call is done and no completion is owed.
  void release_when_idle_locked();

  EventStreams& streams_;
  const WatchHooks& hooks_;

  // gRPC's side of the call.
  grpc::ServerContext context_;
  v1::WatchEventRequest request_;
  grpc::ServerAsyncWriter<v1::EventChange> writer_{&context_};
  Completion accepted_tag_{this, &EventWatch::accepted};
  Completion write_tag_{this, &EventWatch::write_done};
  Completion finish_tag_{this, &EventWatch::finish_done};
  Completion done_tag_{this, &EventWatch::call_done};

  // Set once the call came (accepted()), before anything reads them.
  Credentials credentials_;
  std::int64_t event_id_ = 0;

  std::mutex mutex_;
  std::shared_ptr<EventWatch> self_;  // keeps the stream alive until released
  bool opened_ = false;               // counted and following
  std::string caller_key_;
  std::int64_t sent_version_ = 0;  // the newest version written or waiting
  bool writing_ = false;           // a write's completion is owed
  bool finishing_ = false;         // the finish's completion is owed
  bool call_done_ = false;         // the call is over (finished or cancelled)
  v1::EventChange in_flight_;
  std::optional<v1::EventChange> waiting_;
  bool looking_ = false;
  bool look_once_more_ = false;
  std::optional<grpc::Status> finish_after_writes_;
  bool finished_ = false;
  Steady::time_point started_ = Steady::now();
  Steady::time_point last_sent_ = Steady::now();
  Steady::time_point last_checked_ = Steady::now();
};

}  // namespace calndro::events
