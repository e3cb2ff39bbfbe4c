#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace calndro {

// Call once at start-up, before any other function here (fails fast).
void init_crypto();

// Injected into anything that mints secrets, so tests can make them
// predictable; production uses the OS CSPRNG through libsodium.
class RandomSource {
 public:
  virtual ~RandomSource() = default;
  virtual void fill(unsigned char* out, std::size_t size) = 0;
};

class SystemRandom final : public RandomSource {
 public:
  void fill(unsigned char* out, std::size_t size) override;
};

// `bytes` random bytes as lower-case hex (2 * bytes characters).
std::string random_hex(RandomSource& random, std::size_t bytes);

// The bytes of `text`, as libsodium's functions take them.
inline const unsigned char* bytes_of(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

std::string to_hex(const unsigned char* data, std::size_t size);

// Standard base64 (RFC 4648 §4, padded), as key files and signatures spell bytes.
std::string to_base64(const unsigned char* data, std::size_t size);
// The bytes of standard base64 (padding required), or nullopt.
std::optional<std::string> from_base64(std::string_view text);

// SHA-256 of `data`, lower-case hex. For high-entropy secrets (API and email
// tokens) only: their hash is what the database stores and looks up.
std::string sha256_hex(std::string_view data);

// Compares without an early exit, so timing tells nothing of the contents.
bool constant_time_equal(std::string_view a, std::string_view b);

// argon2id (libsodium), with OWASP's recommended minimum cost
// (2 passes over 19 MiB): memory-hard, yet small enough for a 64 MiB process.
std::string hash_password(std::string_view password);
bool verify_password(const std::string& stored_hash, std::string_view password);

// Held around hash_password/verify_password in a server: each argon2id run
// takes 19 MiB while it works, so at most one runs at a time per process
// and a burst of logins (or a cold credential cache under load) cannot grow
// the process by 19 MiB per thread (docs/PERFORMANCE.md: peak RSS). Not
// reentrant: never hold two.
class PasswordHashingSlot {
 public:
  // Waits as long as it takes (the admin CLI, start-up).
  PasswordHashingSlot();
  // Waits at most `timeout`, so a flood of logins makes callers fail fast
  // instead of queueing behind each other; see acquired().
  explicit PasswordHashingSlot(std::chrono::milliseconds timeout);
  ~PasswordHashingSlot();
  PasswordHashingSlot(const PasswordHashingSlot&) = delete;
  PasswordHashingSlot& operator=(const PasswordHashingSlot&) = delete;
  bool acquired() const { return acquired_; }

 private:
  bool acquired_ = false;
};

}  // namespace calndro
