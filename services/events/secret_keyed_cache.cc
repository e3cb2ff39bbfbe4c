#include "events/secret_keyed_cache.h"

#include <sodium.h>

namespace calndro::events {

SecretHasher::SecretHasher() {
  randombytes_buf(key_, sizeof key_);
}

std::string SecretHasher::hash(std::initializer_list<std::string_view> parts) const {
  crypto_generichash_state state;
  crypto_generichash_init(&state, key_, sizeof key_, 32);
  bool first = true;
  for (const std::string_view part : parts) {
    if (!first) {
      const unsigned char separator = 0;
      crypto_generichash_update(&state, &separator, 1);
    }
    first = false;
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(part.data()), part.size());
  }
  std::string key(32, '\0');
  crypto_generichash_final(&state, reinterpret_cast<unsigned char*>(key.data()), key.size());
  return key;
}

}  // namespace calndro::events
