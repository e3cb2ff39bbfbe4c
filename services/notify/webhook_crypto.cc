#include "notify/webhook_crypto.h"

#include <sodium.h>

#include "common/crypto/crypto.h"

namespace calndro::notify {
namespace {

constexpr std::string_view kSecretPrefix = "whsec_";
constexpr std::size_t kSecretBytes = 24;

}  // namespace

std::string new_webhook_secret(RandomSource& random) {
  unsigned char key[kSecretBytes];
  random.fill(key, sizeof key);
  std::string secret = std::string(kSecretPrefix) + to_base64(key, sizeof key);
  sodium_memzero(key, sizeof key);
  return secret;
}

std::optional<std::string> webhook_secret_key(std::string_view secret) {
  if (!secret.starts_with(kSecretPrefix)) {
    return std::nullopt;
  }
  auto key = calndro::from_base64(secret.substr(kSecretPrefix.size()));
  if (!key || key->empty()) {
    return std::nullopt;
  }
  return key;
}

std::string webhook_signature(std::string_view key, std::string_view message_id, std::int64_t timestamp,
                              std::string_view body) {
  const std::string stamp = std::to_string(timestamp);
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, bytes_of(key), key.size());
  crypto_auth_hmacsha256_update(&state, bytes_of(message_id), message_id.size());
  crypto_auth_hmacsha256_update(&state, bytes_of("."), 1);
  crypto_auth_hmacsha256_update(&state, bytes_of(stamp), stamp.size());
  crypto_auth_hmacsha256_update(&state, bytes_of("."), 1);
  crypto_auth_hmacsha256_update(&state, bytes_of(body), body.size());
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_final(&state, mac);
  return "v1," + to_base64(mac, sizeof mac);
}

absl::StatusOr<SecretBox> SecretBox::from_base64(std::string_view key_base64) {
  auto key = calndro::from_base64(key_base64);
  if (!key || key->size() != crypto_secretbox_KEYBYTES) {
    return absl::InvalidArgumentError("the webhook key is not the base64 of 32 bytes");
  }
  SecretBox box;
  box.key_ = *std::move(key);
  return box;
}

absl::StatusOr<SecretBox> SecretBox::load(const std::filesystem::path& path, MissingKey missing) {
  auto key = read_key_file(path, crypto_secretbox_KEYBYTES, missing, "the webhook key");
  if (!key.ok()) {
    return key.status();
  }
  SecretBox box;
  box.key_ = *std::move(key);
  return box;
}

std::string SecretBox::seal(std::string_view plain, RandomSource& random) const {
  std::string out(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plain.size(), '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  random.fill(nonce, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES, bytes_of(plain), plain.size(), nonce,
                        bytes_of(key_));
  return to_base64(nonce, out.size());
}

absl::StatusOr<std::string> SecretBox::open(std::string_view sealed) const {
  const auto raw = calndro::from_base64(sealed);
  if (!raw || raw->size() < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
    return absl::DataLossError("a stored webhook secret is not one this service sealed");
  }
  const unsigned char* nonce = bytes_of(*raw);
  const std::size_t boxed = raw->size() - crypto_secretbox_NONCEBYTES;
  std::string plain(boxed - crypto_secretbox_MACBYTES, '\0');
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plain.data()),
                                 nonce + crypto_secretbox_NONCEBYTES, boxed, nonce, bytes_of(key_)) != 0) {
    return absl::DataLossError("a stored webhook secret does not open with CALNDRO_WEBHOOK_KEY_FILE's key");
  }
  return plain;
}

}  // namespace calndro::notify
