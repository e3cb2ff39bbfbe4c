#include "events/credential_cache.h"

namespace calndro::events {

CredentialCache::CredentialCache(const Clock& clock, std::chrono::seconds ttl, std::size_t capacity)
    : ttl_(ttl), entries_(clock, capacity) {}

bool CredentialCache::contains(std::string_view stored_hash, std::string_view password) {
  return entries_.find(entries_.key_of({stored_hash, password})).has_value();
}

void CredentialCache::remember(std::string_view stored_hash, std::string_view password) {
  entries_.put(entries_.key_of({stored_hash, password}), true, entries_.now() + ttl_);
}

std::size_t CredentialCache::size() const {
  return entries_.size();
}

}  // namespace calndro::events
