#pragma once

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <string_view>

#include "common/crypto/crypto.h"
#include "common/text/time_format.h"
#include "notify/stores.h"

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

// Email tokens on PostgreSQL, table notify.email_tokens. SQL only; the
// callers own the transactions, so a token and its mail commit together.
class PgTokenStore final : public TokenStore {
 public:
  // Prepares the statements on every pooled connection (DbPool's Prepare).
  static void prepare(pqxx::connection& connection);

  std::int64_t insert(Transaction& tx, const NewToken& token) override;
  void remove(Transaction& tx, std::int64_t id) override;
  std::optional<TokenRecord> find_by_hash(Transaction& tx, const std::string& hash) override;
  int purge_expired(Transaction& tx, int days, int batch) override;
};

// Revocation by an operator (calndro-admin), in the caller's transaction:
// the tokens are deleted, so ResolveToken no longer finds them and a link
// carrying one is refused at once (the event service's email-token cache
// aside: CALNDRO_EMAIL_TOKEN_CACHE_SECONDS). The audit log keeps their
// fingerprints. The admin CLI writes this schema directly rather than through
// an RPC of the notification service: it is the operator's tool on the one
// database, works while notify is down, and commits a deactivation and the
// revocation of the user's tokens together (docs/OPERATIONS.md). Mails still
// queued carry tokens minted when they are sent. Plain SQL: the CLI runs
// each once.
class PgTokenAdmin {
 public:
  explicit PgTokenAdmin(pqxx::transaction_base& tx) : tx_(tx) {}

  // False when the notification service never ran on this database (no
  // token can exist).
  bool schema_present();
  // Every token of event `event_id`, or only those of `party`; how many went.
  std::int64_t revoke_for_event(std::int64_t event_id, const std::optional<std::string>& party);
  // Every token issued to `party`, on any event; how many went.
  std::int64_t revoke_for_party(const std::string& party);

 private:
  pqxx::transaction_base& tx_;
};

}  // namespace calndro::notify
