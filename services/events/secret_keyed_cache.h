#pragma once

#include <chrono>
#include <cstddef>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/text/clock.h"

namespace calndro::events {

// A keyed BLAKE2b hash with a random key per process: what a cache keeps in
// place of a secret (a password, a token), so that nothing in memory can be
// replayed. Parts are separated by a zero byte, so ("ab", "c") and ("a", "bc")
// differ.
class SecretHasher {
 public:
  SecretHasher();
  std::string hash(std::initializer_list<std::string_view> parts) const;

 private:
  unsigned char key_[32];
};

// A bounded map from hashed secrets to values, each kept until its own
// instant. When full, expired entries go, and if none did, everything goes.
// Thread-safe.
template <typename Value>
class SecretKeyedCache {
 public:
  SecretKeyedCache(const Clock& clock, std::size_t capacity) : clock_(clock), capacity_(capacity) {}

  std::string key_of(std::initializer_list<std::string_view> parts) const { return hasher_.hash(parts); }
  Instant now() const { return clock_.now(); }

  std::optional<Value> find(const std::string& key) {
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
    return found->second.value;
  }

  void put(const std::string& key, Value value, Instant keep_until) {
    const Instant now = clock_.now();
    if (capacity_ == 0 || keep_until <= now) {
      return;
    }
    std::lock_guard lock(mutex_);
    if (entries_.size() >= capacity_ && entries_.find(key) == entries_.end()) {
      std::erase_if(entries_, [now](const auto& entry) { return entry.second.keep_until <= now; });
      if (entries_.size() >= capacity_) {
        entries_.clear();
      }
    }
    entries_[key] = Entry{std::move(value), keep_until};
  }

  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
  }

 private:
  struct Entry {
    Value value;
    Instant keep_until;
  };

  const Clock& clock_;
  const std::size_t capacity_;
  const SecretHasher hasher_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace calndro::events
