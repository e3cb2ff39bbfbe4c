#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "gateway/server/socket_stream.h"

// The connections each client address holds (http_server.h). What a
// connection costs is the worker it holds; one doing work gives it back
// soon, one that waits for a request or trickles a head in does not. So an
// address has two limits: a loose one on all its connections, which a busy
// client pool or an office behind one NAT never reaches, and a tight one on
// its lingering connections (waiting for their first or next request, or
// reading a head, for kLingerAfter or more), which idle and slow
// connections hit long before they can lock anyone out.
namespace calndro::gateway {

// How long a connection may wait for a request, or take over a request
// head, before it counts as lingering. An idle connection also gives its
// worker up after this long when accepted connections wait for one.
inline constexpr std::chrono::milliseconds kLingerAfter{250};

struct ConnectionLimits {
  std::size_t per_address = 256;           // CALNDRO_HTTP_MAX_CONNECTIONS_PER_ADDRESS
  std::size_t lingering_per_address = 16;  // CALNDRO_HTTP_MAX_LINGERING_CONNECTIONS_PER_ADDRESS
};

// One connection being served, as its worker and the registry see it.
class Connection {
 public:
  enum class Phase {
    kWaiting,      // for its first request (since its accept) or its next one
    kReadingHead,  // a request head has begun to arrive
    kServing,      // a whole head arrived: its request is being answered
  };

  explicit Connection(std::string address) : address_(std::move(address)) {}

  const std::string& address() const { return address_; }
  void enter(Phase phase, Clock::time_point since) {
    since_ = since.time_since_epoch().count();
    phase_ = phase;
  }
  Phase phase() const { return phase_; }
  Clock::duration in_phase_for(Clock::time_point now) const {
    return now.time_since_epoch() - Clock::duration(since_.load());
  }
  bool waiting_for_at_least(Clock::time_point now, Clock::duration least) const {
    return phase_ == Phase::kWaiting && in_phase_for(now) >= least;
  }
  bool lingering(Clock::time_point now) const {
    return phase_ != Phase::kServing && in_phase_for(now) >= kLingerAfter;
  }

  // Asked to close when it next waits for a request (to make way).
  std::atomic<bool> yield{false};

 private:
  std::string address_;
  std::atomic<Phase> phase_{Phase::kWaiting};
  std::atomic<int64_t> since_{0};  // Clock ticks
};

class ConnectionRegistry {
 public:
  explicit ConnectionRegistry(ConnectionLimits limits) : limits_(limits) {}

  enum class Arrival {
    kSilent,       // nothing received yet
    kRequestSent,  // bytes of a request arrived: it means to work
  };

  // Counts a new connection for its address. At the address's cap, its
  // connection waiting longest is asked to close in the newcomer's favour:
  // any waiting one for a newcomer whose request arrived, else one that
  // lingers. A silent newcomer is also refused while the address's
  // lingering connections are at their limit. False: refused, not counted.
  bool admit(Connection* connection, Arrival arrival, Clock::time_point now);

  // A connection that has begun to linger asks to stay. Over the address's
  // limit a waiting one must close; a head being read takes the place of a
  // connection that waits, when there is one, and must end otherwise.
  // False: no longer counted, close it. True for a connection not counted.
  bool may_linger(Connection* connection, Clock::time_point now);

  // No longer counted (the server has decided to close it, or has closed
  // it). Repeating it changes nothing.
  void remove(Connection* connection);

  // How many connections `address` has counted (for tests).
  std::size_t count(const std::string& address);

 private:
  using List = std::vector<Connection*>;
  static std::size_t lingering(const List& list, const Connection* besides, Clock::time_point now);
  static bool ask_waiting_to_yield(const List& list, Clock::duration least, Clock::time_point now);

  ConnectionLimits limits_;
  std::mutex mutex_;
  std::map<std::string, List> by_address_;
};

}  // namespace calndro::gateway
