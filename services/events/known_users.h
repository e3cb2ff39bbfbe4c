#pragma once

#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

namespace calndro::events {

// Emails this process has seen stored as users. User rows are never deleted
// and emails never change (migration 0003), so an entry does not go stale:
// a create whose parties are all known skips the "ensure users" statement
// (one round trip of the busiest write). Should the database be replaced
// under the process, the create statement refuses a party without a user
// row and the service forgets the set (EventServiceImpl::CreateEvent).
// Bounded: when full, it starts over.
class KnownUsers {
 public:
  explicit KnownUsers(std::size_t capacity);

  bool contain_all(const std::vector<std::string>& emails) const;
  // Only for emails whose rows are committed.
  void add(const std::vector<std::string>& emails);
  // For when the database contradicts the set (it was replaced or restored
  // under the running process).
  void forget_all();
  std::size_t size() const;

 private:
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::unordered_set<std::string> emails_;
};

}  // namespace calndro::events
