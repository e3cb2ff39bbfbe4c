#include "common/audit/log_signing_key.h"

#include <sodium.h>

#include <optional>

#include "common/crypto/crypto.h"

namespace calndro::audit {
namespace {

// Exactly `size` bytes from standard base64 (padding required), or nullopt.
std::optional<std::string> from_base64_of_size(std::string_view text, std::size_t size) {
  auto bytes = from_base64(text);
  if (!bytes || bytes->size() != size) {
    return std::nullopt;
  }
  return bytes;
}

}  // namespace

absl::StatusOr<LogSigningKey> LogSigningKey::from_seed_base64(std::string_view seed_base64) {
  auto seed = from_base64_of_size(seed_base64, crypto_sign_SEEDBYTES);
  if (!seed) {
    return absl::InvalidArgumentError("the log signing key is not the base64 of a 32-byte Ed25519 seed");
  }
  return from_seed(*seed);
}

LogSigningKey LogSigningKey::from_seed(std::string& seed) {
  LogSigningKey key;
  crypto_sign_seed_keypair(key.public_.data(), key.secret_.data(), bytes_of(seed));
  sodium_memzero(seed.data(), seed.size());
  return key;
}

absl::StatusOr<LogSigningKey> LogSigningKey::load(const std::filesystem::path& path, MissingKey missing) {
  auto seed = read_key_file(path, crypto_sign_SEEDBYTES, missing, "the log signing key");
  if (!seed.ok()) {
    return seed.status();
  }
  return from_seed(*seed);
}

std::string LogSigningKey::sign(std::string_view text) const {
  unsigned char signature[crypto_sign_BYTES];
  crypto_sign_detached(signature, nullptr, reinterpret_cast<const unsigned char*>(text.data()), text.size(),
                       secret_.data());
  return to_base64(signature, sizeof signature);
}

std::string LogSigningKey::public_key_base64() const {
  return to_base64(public_.data(), public_.size());
}

std::string LogSigningKey::key_id() const {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, public_.data(), public_.size());
  std::string hex(2 * 8 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), digest, 8);
  hex.pop_back();
  return hex;
}

bool verify_signature(std::string_view public_key_base64, std::string_view text,
                      std::string_view signature_base64) {
  const auto key = from_base64_of_size(public_key_base64, crypto_sign_PUBLICKEYBYTES);
  const auto signature = from_base64_of_size(signature_base64, crypto_sign_BYTES);
  return key && signature &&
         crypto_sign_verify_detached(bytes_of(*signature),
                                     reinterpret_cast<const unsigned char*>(text.data()), text.size(),
                                     bytes_of(*key)) == 0;
}

}  // namespace calndro::audit
