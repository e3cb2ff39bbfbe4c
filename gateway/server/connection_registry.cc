#include "gateway/server/connection_registry.h"

#include <algorithm>

namespace calndro::gateway {

// Lingering connections of `list` other than `besides`; one already asked
// to make way no longer counts.
std::size_t ConnectionRegistry::lingering(const List& list, const Connection* besides,
                                          Clock::time_point now) {
  return static_cast<std::size_t>(std::count_if(list.begin(), list.end(), [&](const Connection* other) {
    return other != besides && !other->yield && other->lingering(now);
  }));
}

// Asks the connection of `list` that has waited longest (at least `least`)
// to close. False when none waits that long.
bool ConnectionRegistry::ask_waiting_to_yield(const List& list, Clock::duration least,
                                              Clock::time_point now) {
  Connection* longest = nullptr;
  for (Connection* other : list) {
    if (!other->yield && other->waiting_for_at_least(now, least) &&
        (longest == nullptr || other->in_phase_for(now) > longest->in_phase_for(now))) {
      longest = other;
    }
  }
  if (longest == nullptr) {
    return false;
  }
  longest->yield = true;
  return true;
}

bool ConnectionRegistry::admit(Connection* connection, Arrival arrival, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  List& list = by_address_[connection->address()];
  const bool sent = arrival == Arrival::kRequestSent;
  // Those already asked to make way are leaving (within one wait slice):
  // they hold no place a newcomer must take from someone else.
  const auto leaving = static_cast<std::size_t>(
      std::count_if(list.begin(), list.end(), [](const Connection* other) { return other->yield.load(); }));
  bool admitted = true;
  if (list.size() - leaving >= limits_.per_address) {
    admitted =
        ask_waiting_to_yield(list, sent ? Clock::duration::zero() : Clock::duration(kLingerAfter), now);
  } else if (!sent) {
    admitted = lingering(list, connection, now) < limits_.lingering_per_address;
  }
  if (!admitted) {
    if (list.empty()) {
      by_address_.erase(connection->address());
    }
    return false;
  }
  list.push_back(connection);
  return true;
}

bool ConnectionRegistry::may_linger(Connection* connection, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  const auto it = by_address_.find(connection->address());
  if (it == by_address_.end() ||
      std::find(it->second.begin(), it->second.end(), connection) == it->second.end()) {
    return true;  // not counted: no limit applies
  }
  List& list = it->second;
  if (lingering(list, connection, now) < limits_.lingering_per_address ||
      (connection->phase() == Connection::Phase::kReadingHead &&
       ask_waiting_to_yield(list, kLingerAfter, now))) {
    return true;
  }
  std::erase(list, connection);
  if (list.empty()) {
    by_address_.erase(it);
  }
  return false;
}

void ConnectionRegistry::remove(Connection* connection) {
  std::lock_guard lock(mutex_);
  const auto it = by_address_.find(connection->address());
  if (it == by_address_.end()) {
    return;
  }
  std::erase(it->second, connection);
  if (it->second.empty()) {
    by_address_.erase(it);
  }
}

std::size_t ConnectionRegistry::count(const std::string& address) {
  std::lock_guard lock(mutex_);
  const auto it = by_address_.find(address);
  return it == by_address_.end() ? 0 : it->second.size();
}

}  // namespace calndro::gateway
