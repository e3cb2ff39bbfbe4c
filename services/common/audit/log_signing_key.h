#pragma once

#include <array>
#include <filesystem>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/crypto/key_file.h"

namespace calndro::audit {

using calndro::MissingKey;

// The Ed25519 key that signs the log heads (libsodium). Its file holds the
// 32-byte seed in standard base64 on one line, readable by its owner only.
class LogSigningKey {
 public:
  // The key from its seed (standard base64 of 32 bytes).
  static absl::StatusOr<LogSigningKey> from_seed_base64(std::string_view seed_base64);
  // The key in `path`; a missing file is created with a fresh key (mode
  // 0600, never overwriting one another process made meanwhile) when
  // `missing` says so.
  static absl::StatusOr<LogSigningKey> load(const std::filesystem::path& path, MissingKey missing);

  // Standard base64 of the 64-byte signature of `text`.
  std::string sign(std::string_view text) const;
  // Standard base64 of the raw 32-byte public key.
  std::string public_key_base64() const;
  // Lowercase hex of the first 8 bytes of SHA-256(public key): names the key.
  std::string key_id() const;

 private:
  // Wipes `seed` once the key pair is made.
  static LogSigningKey from_seed(std::string& seed);

  std::array<unsigned char, 64> secret_{};
  std::array<unsigned char, 32> public_{};
};

// Whether `signature_base64` is a valid Ed25519 signature of `text` by the
// public key `public_key_base64` (both standard base64); false for any
// malformed input.
bool verify_signature(std::string_view public_key_base64, std::string_view text,
                      std::string_view signature_base64);

}  // namespace calndro::audit
