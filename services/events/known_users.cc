#include "events/known_users.h"

namespace calndro::events {

KnownUsers::KnownUsers(std::size_t capacity) : capacity_(capacity) {}

bool KnownUsers::contain_all(const std::vector<std::string>& emails) const {
  std::lock_guard lock(mutex_);
  for (const auto& email : emails) {
    if (!emails_.contains(email)) {
      return false;
    }
  }
  return true;
}

void KnownUsers::add(const std::vector<std::string>& emails) {
  std::lock_guard lock(mutex_);
  if (emails_.size() + emails.size() > capacity_) {
    emails_.clear();
  }
  emails_.insert(emails.begin(), emails.end());
}

void KnownUsers::forget_all() {
  std::lock_guard lock(mutex_);
  emails_.clear();
}

std::size_t KnownUsers::size() const {
  std::lock_guard lock(mutex_);
  return emails_.size();
}

}  // namespace calndro::events
