#include "common/crypto/crypto.h"

#include <sodium.h>

#include <semaphore>

#include <stdexcept>

namespace calndro {
namespace {
constexpr unsigned long long kPasswordOpsLimit = 2;
constexpr std::size_t kPasswordMemLimit = std::size_t{19} * 1024 * 1024;
}  // namespace

void init_crypto() {
  if (sodium_init() < 0) {
    throw std::runtime_error("libsodium failed to initialise");
  }
}

void SystemRandom::fill(unsigned char* out, std::size_t size) {
  randombytes_buf(out, size);
}

std::string to_hex(const unsigned char* data, std::size_t size) {
  std::string hex(size * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), data, size);
  hex.pop_back();
  return hex;
}

std::string to_base64(const unsigned char* data, std::size_t size) {
  std::string out(sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), data, size, sodium_base64_VARIANT_ORIGINAL);
  out.pop_back();  // the terminating NUL
  return out;
}

std::optional<std::string> from_base64(std::string_view text) {
  std::string out(text.size(), '\0');
  std::size_t length = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(),
                        nullptr, &length, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size()) {
    return std::nullopt;
  }
  out.resize(length);
  return out;
}

std::string random_hex(RandomSource& random, std::size_t bytes) {
  std::string raw(bytes, '\0');
  random.fill(reinterpret_cast<unsigned char*>(raw.data()), bytes);
  std::string hex = to_hex(bytes_of(raw), bytes);
  sodium_memzero(raw.data(), raw.size());
  return hex;
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, bytes_of(data), data.size());
  return to_hex(digest, sizeof digest);
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string hash_password(std::string_view password) {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), kPasswordOpsLimit, kPasswordMemLimit) != 0) {
    throw std::runtime_error("password hashing ran out of memory");
  }
  return out;
}

bool verify_password(const std::string& stored_hash, std::string_view password) {
  if (stored_hash.empty()) {
    return false;
  }
  return crypto_pwhash_str_verify(stored_hash.c_str(), password.data(), password.size()) == 0;
}

namespace {
std::counting_semaphore<1>& password_hashing_slots() {
  static std::counting_semaphore<1> slots(1);
  return slots;
}
}  // namespace

PasswordHashingSlot::PasswordHashingSlot() : acquired_(true) {
  password_hashing_slots().acquire();
}

PasswordHashingSlot::PasswordHashingSlot(std::chrono::milliseconds timeout)
    : acquired_(password_hashing_slots().try_acquire_for(timeout)) {}

PasswordHashingSlot::~PasswordHashingSlot() {
  if (acquired_) {
    password_hashing_slots().release();
  }
}

}  // namespace calndro
