#pragma once

#include <chrono>
#include <cstddef>
#include <string_view>

#include "common/text/clock.h"
#include "events/secret_keyed_cache.h"

namespace calndro::events {

// Remembers recently verified Basic credentials so a request does not pay
// the argon2id cost each time. Keys are a keyed BLAKE2b hash (random key per
// process) of the stored password hash and the offered password: nothing in
// memory can be replayed, and a changed password changes the stored hash,
// so no older entry can ever match it again. An entry lives `ttl` after its
// last use. Bounded: when full, expired entries go, and if none did,
// everything goes.
class CredentialCache {
 public:
  CredentialCache(const Clock& clock, std::chrono::seconds ttl, std::size_t capacity);

  bool contains(std::string_view stored_hash, std::string_view password);
  void remember(std::string_view stored_hash, std::string_view password);
  std::size_t size() const;

 private:
  const std::chrono::seconds ttl_;
  SecretKeyedCache<bool> entries_;
};

}  // namespace calndro::events
