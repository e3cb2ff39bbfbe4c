#include "events/email_token_cache.h"

#include <sodium.h>

#include <algorithm>

#include "common/text/text.h"

namespace calndro::events {

EmailTokenCache::EmailTokenCache(const Clock& clock, std::chrono::seconds ttl, std::size_t capacity)
    : ttl_(ttl), entries_(clock, capacity) {}

std::string EmailTokenCache::key_of(std::string_view token) const {
  // Tokens are hex and resolve case-insensitively: fold the case so both
  // spellings share one entry.
  std::string folded = to_lower_ascii(token);
  std::string key = entries_.key_of({folded});
  sodium_memzero(folded.data(), folded.size());
  return key;
}

std::optional<ResolvedEmailToken> EmailTokenCache::find(std::string_view token) {
  return entries_.find(key_of(token));
}

void EmailTokenCache::remember(std::string_view token, const ResolvedEmailToken& resolved) {
  // Never past the token's own expiry: an expired token is asked about
  // again (and then reported expired by the caller's clock check).
  const Instant keep_until = std::min<Instant>(entries_.now() + ttl_, resolved.expires);
  entries_.put(key_of(token), resolved, keep_until);
}

std::size_t EmailTokenCache::size() const {
  return entries_.size();
}

}  // namespace calndro::events
