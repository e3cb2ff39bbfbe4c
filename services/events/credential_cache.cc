#include "events/credential_cache.h"

namespace calndro::events {

CredentialCache::CredentialCache(const Clock& clock, std::chrono::seconds ttl, std::size_t capacity)
    : ttl_(ttl), entries_(clock, capacity) {}

bool CredentialCache::contains(std::string_view stored_hash, std::string_view password) {
  const std::string key = entries_.key_of({stored_hash, password});
  if (!entries_.find(key)) {
    return false;
  }
  // Kept while in use: an entry is a fact that never turns false (the pair
  // matched), so the time to live only bounds what an idle credential
  // occupies. Had it lapsed under steady use, every request of that moment
  // would have run argon2id at once, each counted as a possible failure
  // first: a burst of more than the per-account limit got 429s.
  entries_.put(key, true, entries_.now() + ttl_);
  return true;
}

void CredentialCache::remember(std::string_view stored_hash, std::string_view password) {
  entries_.put(entries_.key_of({stored_hash, password}), true, entries_.now() + ttl_);
}

std::size_t CredentialCache::size() const {
  return entries_.size();
}

}  // namespace calndro::events
