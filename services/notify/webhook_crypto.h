#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/crypto/crypto.h"
#include "common/crypto/key_file.h"

// The cryptography of webhooks (libsodium): the secret a webhook is given,
// the Standard Webhooks signature of each delivery, and the key that keeps
// the secrets encrypted in the database.
namespace calndro::notify {

// "whsec_" + standard base64 of 24 random bytes (SPEC §11).
std::string new_webhook_secret(RandomSource& random);
// The key a secret stands for: the bytes of its base64 after "whsec_";
// nullopt when `secret` is not one.
std::optional<std::string> webhook_secret_key(std::string_view secret);
// The webhook-signature header: "v1," + standard base64 of
// HMAC-SHA256(key, message_id + "." + timestamp + "." + body).
std::string webhook_signature(std::string_view key, std::string_view message_id, std::int64_t timestamp,
                              std::string_view body);

// The key that encrypts the webhooks' secrets at rest (XSalsa20-Poly1305,
// crypto_secretbox): a stolen database copy does not sign deliveries. Its
// file holds the 32 bytes in standard base64 on one line.
class SecretBox {
 public:
  // The key in `path`; a missing file is created with a fresh key (mode
  // 0600, never overwriting one another process made meanwhile) when
  // `missing` says so.
  static absl::StatusOr<SecretBox> load(const std::filesystem::path& path, MissingKey missing);
  // The key from its standard base64 (32 bytes).
  static absl::StatusOr<SecretBox> from_base64(std::string_view key_base64);

  // Standard base64 of a fresh nonce and the sealed `plain`.
  std::string seal(std::string_view plain, RandomSource& random) const;
  // What seal() sealed with this key; DATA_LOSS for anything else.
  absl::StatusOr<std::string> open(std::string_view sealed) const;

 private:
  std::string key_;
};

}  // namespace calndro::notify
