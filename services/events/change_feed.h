#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

// SPEC §11's change feed: every replica of the event service learns of each
// new version of an event, whichever replica committed it, from PostgreSQL's
// LISTEN/NOTIFY (migration 0013 announces "ID:VERSION" on commit). One
// connection of its own per process, outside the pool: a listening
// connection must not be lent to anyone.
//
// NOTIFY is not stored: what is announced while the connection is down is
// lost. So after every (re)connection the feed says `resync`, and listeners
// look at their events again (event_streams.h) rather than trust that they
// heard everything.
namespace calndro::events {

inline constexpr const char* kChangeChannel = "calndro_event_changes";

class ChangeFeed {
 public:
  struct Handlers {
    // A new version of an event committed. Called on the feed's thread:
    // must be quick (queue work, do not query).
    std::function<void(std::int64_t id, std::int64_t version)> changed;
    // The feed (re)connected: announcements may have been missed.
    std::function<void()> resync;
  };

  // Starts listening on `database_url` at once; a database that is down is
  // retried every `retry` until it is up.
  ChangeFeed(std::string database_url, Handlers handlers,
             std::chrono::milliseconds retry = std::chrono::milliseconds(1000));
  ChangeFeed(const ChangeFeed&) = delete;
  ChangeFeed& operator=(const ChangeFeed&) = delete;

 private:
  void run(const std::stop_token& stop);
  // One connection's life: LISTEN, then announcements until it breaks or
  // `stop` is asked. Throws when the connection fails.
  void listen_until_broken(const std::stop_token& stop);

  const std::string database_url_;
  const Handlers handlers_;
  const std::chrono::milliseconds retry_;
  std::jthread thread_;  // last: stopped and joined first
};

// "ID:VERSION" as announced; false for anything else.
bool parse_announcement(const std::string& payload, std::int64_t& id, std::int64_t& version);

}  // namespace calndro::events
