#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "calndro/events/v1/events.pb.h"
#include "events/authenticator.h"

// The open WatchEvent streams of one event-service process (SPEC §11): who
// follows which event, the work they do off gRPC's threads, their
// heartbeats and re-checks, and the per-caller limit. The change feed
// (change_feed.h) tells it of new versions; each stream (event_watch.h)
// then looks at its event again, as its caller may see it.
namespace calndro::events {

struct StreamOptions {
  // Open streams one caller (a user, or an email token) may hold, on all
  // replicas together when there is a census (CALNDRO_STREAMS_PER_CALLER).
  std::size_t per_caller = 20;
  // Quiet this long, a stream gets a heartbeat (CALNDRO_STREAM_HEARTBEAT_SECONDS).
  std::chrono::seconds heartbeat{15};
  // Each stream looks at its event and its caller's credentials again this
  // often, changes or not (CALNDRO_STREAM_RECHECK_SECONDS): an expired email
  // token, a revoked key or a lost access ends the stream within it, and a
  // change missed while the feed was down arrives within it.
  std::chrono::seconds recheck{30};
  // Threads that do the streams' database work.
  std::size_t workers = 4;
};

// What a stream found when it looked at its event as its caller.
struct WatchLook {
  enum class Outcome {
    kEvent,        // `event` as the caller may see it now
    kDeleted,      // the event was deleted
    kRefused,      // `status`: the caller may no longer see it (or never could)
    kUnavailable,  // `status`: the database or the notification service is down; look again later
  };
  Outcome outcome = Outcome::kUnavailable;
  v1::Event event;
  absl::Status status;
  // Whom the stream counts against (opening looks only).
  std::string caller_key;
};

enum class LookKind {
  kOpening,    // the stream opens: a deleted event is NOT_FOUND, and a VIEW is logged
  kFollowing,  // a change, a re-check: no log entry
};
// The event service's part (event_watch_access.cc): authenticates, loads the
// event and decides as for GetEvent.
using LookAtEvent = std::function<WatchLook(const Credentials&, std::int64_t id, LookKind)>;

class EventWatch;

// The streams the other replicas hold, for the per-caller limit across the
// deployment (stream_census.h keeps them in the database).
class StreamCensus {
 public:
  virtual ~StreamCensus() = default;
  // Whether `caller_key`, holding `open_here` streams on this replica, may
  // open one more when the others' count too; when it may, the new count
  // is where the other replicas see it.
  virtual bool admit(const std::string& caller_key, std::size_t open_here, std::size_t limit) = 0;
  // All of this replica's counts (caller key -> open streams), refreshed.
  virtual void publish(const std::map<std::string, std::size_t>& open) = 0;
};

class EventStreams {
 public:
  // Every 5 s the census hears this replica's counts (a stream closed here
  // frees its place elsewhere within that).
  static constexpr std::chrono::seconds kCensusInterval{5};

  // `census` (optional, outliving this): the limit counts other replicas' streams.
  explicit EventStreams(StreamOptions options, StreamCensus* census = nullptr);
  ~EventStreams();
  EventStreams(const EventStreams&) = delete;
  EventStreams& operator=(const EventStreams&) = delete;

  const StreamOptions& options() const { return options_; }

  // Runs `job` on a worker: a stream's database work never holds one of
  // gRPC's threads.
  void post(std::function<void()> job);

  // Counts a stream for `caller_key`; false (not counted) at the limit, here
  // or across replicas. May wait for the database: a worker's call.
  bool admit(const std::string& caller_key);
  void leave(const std::string& caller_key);

  // `watch` hears of changes of event `id` until unfollow().
  void follow(std::int64_t id, const std::shared_ptr<EventWatch>& watch);
  void unfollow(std::int64_t id, const EventWatch* watch);

  // The change feed's handlers.
  void changed(std::int64_t id, std::int64_t version);
  void resync();

  // Ends every stream with `status` (the server is shutting down).
  void end_all(const grpc::Status& status);

  // Open (followed) streams, for the metrics.
  std::size_t open_streams() const;

 private:
  void work(const std::stop_token& stop);
  void tick(const std::stop_token& stop);
  // Tells the census this replica's counts (on a worker).
  void publish_census();
  // The followers of `id` (every one when `id` is 0) that are still alive.
  std::vector<std::shared_ptr<EventWatch>> followers(std::int64_t id) const;

  const StreamOptions options_;
  StreamCensus* const census_;
  // Admissions share it; a census refresh takes it alone, so that the counts
  // it writes are never older than an admission's.
  std::shared_mutex census_mutex_;
  std::atomic<bool> census_published_empty_{true};

  mutable std::mutex follow_mutex_;
  std::unordered_multimap<std::int64_t, std::weak_ptr<EventWatch>> following_;
  std::map<std::string, std::size_t> per_caller_;

  std::mutex jobs_mutex_;
  std::condition_variable_any jobs_ready_;
  std::deque<std::function<void()>> jobs_;

  std::vector<std::jthread> workers_;  // last: stopped and joined first
  std::jthread ticker_;
};

}  // namespace calndro::events
