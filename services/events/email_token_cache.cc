#include "events/email_token_cache.h"

#include <sodium.h>

#include <algorithm>
#include <cctype>

namespace calndro::events {

EmailTokenCache::EmailTokenCache(const Clock& clock, std::chrono::seconds ttl, std::size_t capacity)
    : clock_(clock), ttl_(ttl), capacity_(capacity) {
  randombytes_buf(secret_, sizeof secret_);
}

std::string EmailTokenCache::key_of(std::string_view token) const {
  // Tokens are hex and resolve case-insensitively: fold the case so both
  // spellings share one entry.
  std::string folded(token);
  std::transform(folded.begin(), folded.end(), folded.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string key(32, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(key.data()), key.size(),
                     reinterpret_cast<const unsigned char*>(folded.data()), folded.size(), secret_,
                     sizeof secret_);
  sodium_memzero(folded.data(), folded.size());
  return key;
}

std::optional<ResolvedEmailToken> EmailTokenCache::find(std::string_view token) {
  const std::string key = key_of(token);
  const Instant now = clock_.now();
  std::lock_guard lock(mutex_);
  const auto found = entries_.find(key);
  if (found == entries_.end()) {
    return std::nullopt;
  }
  if (found->second.keep_until <= now) {
    entries_.erase(found);
    return std::nullopt;
  }
  return found->second.resolved;
}

void EmailTokenCache::remember(std::string_view token, const ResolvedEmailToken& resolved) {
  const Instant now = clock_.now();
  // Never past the token's own expiry: an expired token is asked about
  // again (and then reported expired by the caller's clock check).
  const Instant keep_until = std::min<Instant>(now + ttl_, resolved.expires);
  if (capacity_ == 0 || keep_until <= now) {
    return;
  }
  const std::string key = key_of(token);
  std::lock_guard lock(mutex_);
  if (entries_.size() >= capacity_ && entries_.find(key) == entries_.end()) {
    std::erase_if(entries_, [now](const auto& entry) { return entry.second.keep_until <= now; });
    if (entries_.size() >= capacity_) {
      entries_.clear();
    }
  }
  entries_[key] = Entry{resolved, keep_until};
}

std::size_t EmailTokenCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace calndro::events
