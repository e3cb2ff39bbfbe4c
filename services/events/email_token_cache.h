#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/text/clock.h"
#include "events/secret_keyed_cache.h"

namespace calndro::events {

// What the notification service said an email token stands for.
struct ResolvedEmailToken {
  std::int64_t event_id = 0;
  std::string party_email;
  std::string fingerprint;
  Instant expires;
};

// A short-lived memory of resolved email tokens, so a party opening the
// same link repeatedly does not cost a gRPC round trip to the notification
// service (and a held database connection) per request. A token's binding
// (event, party, expiry) never changes once issued, so a cached answer can
// only be stale in two ways: kept past the token's expiry, or past its
// revocation (calndro-admin deletes it). An entry lives at most `ttl` (the
// event service allows a minute at most) and never past the token's own
// expiry, and the authenticator still compares the expiry with the clock on
// every use.
// Keys are a keyed BLAKE2b hash of the token (random key per process): the
// secret token itself is not kept. Bounded: when full, dead entries go,
// and if none did, everything goes. Thread-safe.
class EmailTokenCache {
 public:
  EmailTokenCache(const Clock& clock, std::chrono::seconds ttl, std::size_t capacity);

  std::optional<ResolvedEmailToken> find(std::string_view token);
  void remember(std::string_view token, const ResolvedEmailToken& resolved);
  std::size_t size() const;

 private:
  std::string key_of(std::string_view token) const;

  const std::chrono::seconds ttl_;
  SecretKeyedCache<ResolvedEmailToken> entries_;
};

}  // namespace calndro::events
