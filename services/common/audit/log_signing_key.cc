#include "common/audit/log_signing_key.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <vector>

namespace calndro::audit {
namespace {

std::string to_base64(const unsigned char* data, std::size_t size) {
  std::string out(sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), data, size, sodium_base64_VARIANT_ORIGINAL);
  out.pop_back();  // the terminating NUL
  return out;
}

// Exactly `size` bytes from standard base64 (padding required), or nullopt.
std::optional<std::vector<unsigned char>> from_base64(std::string_view text, std::size_t size) {
  std::vector<unsigned char> out(size + 3);
  std::size_t length = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &length, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size() || length != size) {
    return std::nullopt;
  }
  out.resize(size);
  return out;
}

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

// Writes a fresh seed to `path` unless the file exists (O_EXCL: two replicas
// starting together keep one key).
absl::Status create_key_file(const std::filesystem::path& path) {
  unsigned char seed[crypto_sign_SEEDBYTES];
  randombytes_buf(seed, sizeof seed);
  const std::string line = to_base64(seed, sizeof seed) + "\n";
  sodium_memzero(seed, sizeof seed);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      return absl::OkStatus();
    }
    return absl::FailedPreconditionError("cannot create the log signing key " + path.string() + ": " +
                                         std::strerror(errno));
  }
  const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!written || !synced) {
    return absl::FailedPreconditionError("cannot write the log signing key " + path.string());
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<LogSigningKey> LogSigningKey::from_seed_base64(std::string_view seed_base64) {
  const auto seed = from_base64(seed_base64, crypto_sign_SEEDBYTES);
  if (!seed) {
    return absl::InvalidArgumentError("the log signing key is not the base64 of a 32-byte Ed25519 seed");
  }
  LogSigningKey key;
  crypto_sign_seed_keypair(key.public_.data(), key.secret_.data(), seed->data());
  return key;
}

absl::StatusOr<LogSigningKey> LogSigningKey::load(const std::filesystem::path& path, MissingKey missing) {
  if (missing == MissingKey::kCreate) {
    if (const absl::Status created = create_key_file(path); !created.ok()) {
      return created;
    }
  }
  std::ifstream file(path);
  if (!file) {
    return absl::FailedPreconditionError("cannot read the log signing key " + path.string());
  }
  std::stringstream text;
  text << file.rdbuf();
  auto key = from_seed_base64(trimmed(text.str()));
  if (!key.ok()) {
    return absl::InvalidArgumentError(path.string() + ": " + std::string(key.status().message()));
  }
  return key;
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
  const auto key = from_base64(public_key_base64, crypto_sign_PUBLICKEYBYTES);
  const auto signature = from_base64(signature_base64, crypto_sign_BYTES);
  return key && signature &&
         crypto_sign_verify_detached(signature->data(), reinterpret_cast<const unsigned char*>(text.data()),
                                     text.size(), key->data()) == 0;
}

}  // namespace calndro::audit
