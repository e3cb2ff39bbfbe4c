#include "events/credential_cache.h"

#include <sodium.h>

namespace calndro::events {

CredentialCache::CredentialCache(const Clock& clock, std::chrono::seconds ttl, std::size_t capacity)
    : clock_(clock), ttl_(ttl), capacity_(capacity) {
  randombytes_buf(secret_, sizeof secret_);
}

std::string CredentialCache::key_of(std::string_view stored_hash, std::string_view password) const {
  crypto_generichash_state state;
  crypto_generichash_init(&state, secret_, sizeof secret_, 32);
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(stored_hash.data()),
                            stored_hash.size());
  const unsigned char separator = 0;
  crypto_generichash_update(&state, &separator, 1);
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(password.data()), password.size());
  std::string key(32, '\0');
  crypto_generichash_final(&state, reinterpret_cast<unsigned char*>(key.data()), key.size());
  return key;
}

bool CredentialCache::contains(std::string_view stored_hash, std::string_view password) {
  const std::string key = key_of(stored_hash, password);
  std::lock_guard lock(mutex_);
  const auto found = expiry_by_key_.find(key);
  if (found == expiry_by_key_.end()) {
    return false;
  }
  if (found->second <= clock_.now()) {
    expiry_by_key_.erase(found);
    return false;
  }
  return true;
}

void CredentialCache::remember(std::string_view stored_hash, std::string_view password) {
  const std::string key = key_of(stored_hash, password);
  const Instant now = clock_.now();
  std::lock_guard lock(mutex_);
  if (expiry_by_key_.size() >= capacity_) {
    std::erase_if(expiry_by_key_, [now](const auto& entry) { return entry.second <= now; });
    if (expiry_by_key_.size() >= capacity_) {
      expiry_by_key_.clear();
    }
  }
  expiry_by_key_[key] = now + ttl_;
}

std::size_t CredentialCache::size() const {
  std::lock_guard lock(mutex_);
  return expiry_by_key_.size();
}

}  // namespace calndro::events
