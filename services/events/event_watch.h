#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "calndro/events/v1/events.pb.h"
#include "events/authenticator.h"
#include "events/event_streams.h"

// One WatchEvent stream (SPEC §11), on gRPC's callback API: an open stream
// holds no thread, only this object. Everything it does with the database
// runs on EventStreams' workers; what it sends goes one write at a time,
// the newest version waiting behind the write in flight (older ones waiting
// are dropped: versions in between may be skipped, never the latest).
namespace calndro::events {

class EventWatch final : public grpc::ServerWriteReactor<v1::EventChange>,
                         public std::enable_shared_from_this<EventWatch> {
 public:
  // The reactor gRPC runs; it lives until OnDone().
  static EventWatch* start(EventStreams& streams, LookAtEvent look, Credentials credentials,
                           const v1::WatchEventRequest& request);

  // From EventStreams: a new version of the event committed.
  void changed(std::int64_t version);
  // From EventStreams' ticker: heartbeats and re-checks that are due.
  void tick(std::chrono::steady_clock::time_point now);
  // Look again whatever the version (the feed may have missed changes).
  void look_again();
  // Ends the stream with `status` (after the write in flight).
  void end(const grpc::Status& status);

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

  EventWatch(EventStreams& streams, LookAtEvent look, Credentials credentials,
             const v1::WatchEventRequest& request);

 private:
  using Steady = std::chrono::steady_clock;

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

  EventStreams& streams_;
  const LookAtEvent look_;
  const Credentials credentials_;
  const std::int64_t event_id_;

  // Recursive: a reaction gRPC may run inline from StartWrite or Finish
  // takes it again on the same thread.
  std::recursive_mutex mutex_;
  std::shared_ptr<EventWatch> self_;  // keeps the reactor alive until OnDone
  bool opened_ = false;               // counted and following
  std::string caller_key_;
  std::int64_t sent_version_ = 0;  // the newest version written or waiting
  bool writing_ = false;
  v1::EventChange in_flight_;
  std::optional<v1::EventChange> waiting_;
  bool looking_ = false;
  bool look_once_more_ = false;
  std::optional<grpc::Status> finish_after_writes_;
  bool finished_ = false;
  const Steady::time_point started_ = Steady::now();
  Steady::time_point last_sent_ = Steady::now();
  Steady::time_point last_checked_ = Steady::now();
};

// A stream that ends at once with `status`.
grpc::ServerWriteReactor<v1::EventChange>* refused_watch(const grpc::Status& status);

}  // namespace calndro::events
