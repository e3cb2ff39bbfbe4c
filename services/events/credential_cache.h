#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"

namespace calndro::events {

// Remembers recently verified Basic credentials so a request does not pay
// the argon2id cost each time. Keys are a keyed BLAKE2b hash (random key per
// process) of the stored password hash and the offered password: nothing in
// memory can be replayed, and a changed password changes the stored hash,
// so no older entry can ever match it again. Bounded: when full, expired
// entries go, and if none did, everything goes.
class CredentialCache {
 public:
  CredentialCache(const Clock& clock, std::chrono::seconds ttl, std::size_t capacity);

  bool contains(std::string_view stored_hash, std::string_view password);
  void remember(std::string_view stored_hash, std::string_view password);
  std::size_t size() const;

 private:
  std::string key_of(std::string_view stored_hash, std::string_view password) const;

  const Clock& clock_;
  const std::chrono::seconds ttl_;
  const std::size_t capacity_;
  unsigned char secret_[32];
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Instant> expiry_by_key_;
};

}  // namespace calndro::events
