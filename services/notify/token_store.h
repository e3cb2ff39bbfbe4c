#pragma once

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <string_view>

#include "common/crypto.h"
#include "common/time_format.h"

// Email tokens (SPEC §6): 160 random bits as 40 lower-case hex characters.
// The database keeps only sha256(token); the raw token exists only in the
// dispatcher's memory while it sends the mail, and in the mail itself
// (see dispatcher.h).
namespace calndro::notify {

inline constexpr std::size_t kTokenBytes = 20;  // 160 bits
inline constexpr std::size_t kTokenHexLength = 2 * kTokenBytes;
inline constexpr std::size_t kFingerprintLength = 12;

struct MintedToken {
  std::string token;        // the secret: goes into the mail, nowhere else
  std::string hash;         // sha256_hex(token): the lookup key stored
  std::string fingerprint;  // non-secret, for audit logs and responses
};

MintedToken mint_token(RandomSource& random);

// True for exactly 40 hexadecimal characters (either case).
bool well_formed_token(std::string_view token);

// Lower-case form of a well-formed token (the form that is hashed).
std::string canonical_token(std::string_view token);

std::string token_hash(std::string_view token);

// The first 12 hex characters of sha256("calndro email token fingerprint:" +
// token). Domain-separated from token_hash, so it reveals nothing about the
// stored lookup hash either; 48 bits is plenty to tell tokens apart in a log
// and useless for guessing a 160-bit token.
std::string token_fingerprint(std::string_view token);

struct TokenRecord {
  std::int64_t id = 0;
  std::string hash;
  std::string fingerprint;
  std::int64_t event_id = 0;
  std::string party_email;
  Instant expires;
};

// SQL on schema notify.email_tokens. Statements are prepared on every pooled
// connection by prepare(); the functions take the caller's transaction so a
// token and its mail commit together.
class TokenStore {
 public:
  static void prepare(pqxx::connection& connection);

  static std::int64_t insert(pqxx::work& tx, const MintedToken& token, std::int64_t event_id,
                             const std::string& party_email, Instant expires, const std::string& request_id);
  // Takes back a token whose mail was not sent.
  static void remove(pqxx::work& tx, std::int64_t id);

  // Retention: at most `batch` tokens expired more than `days` ago; the
  // number deleted (their mails' records lose the reference).
  static int purge_expired(pqxx::work& tx, int days, int batch);

  static std::optional<TokenRecord> find_by_hash(pqxx::transaction_base& tx, const std::string& hash);
};

}  // namespace calndro::notify
