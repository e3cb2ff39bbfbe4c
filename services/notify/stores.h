#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "common/db/unit_of_work.h"
#include "common/text/time_format.h"
#include "notify/mail_composer.h"

// What the RPCs, the dispatcher and the retention purge need from storage:
// small interfaces, so that each takes its stores in its constructor and is
// unit-tested against in-memory fakes (tests/unit/notify/fake_stores.h). The
// PostgreSQL implementations are PgDatabase (pg_database.h), PgOutbox
// (outbox.h) and PgTokenStore (token_store.h); the integration tests run them.
namespace calndro::notify {

// One transaction, opened by Database. The stores' functions take it, so a
// caller decides what commits together (a mail and its token's removal).
class Transaction {
 public:
  virtual ~Transaction() = default;
};

// Runs `work` as common/db/unit_of_work.h says: kTransaction read-write,
// kReadOnly, or kPerStatement (one statement, no BEGIN/COMMIT round trips).
// `work` may run more than once (a try that failed committed nothing), so
// it starts from scratch each time. Throws DatabaseUnavailable when the
// database cannot be reached.
using Database = UnitOfWork<Transaction>;

// A unit of work refused (its status not OK) where the caller is a
// background loop: thrown, the loop logs it and tries again on its next
// round, as it does when the database is down.
class WorkRefused : public std::runtime_error {
 public:
  explicit WorkRefused(const absl::Status& status) : std::runtime_error(status.ToString()) {}
};

inline void throw_if_refused(const absl::Status& status) {
  if (!status.ok()) {
    throw WorkRefused(status);
  }
}

// What QueueNotifications answers for one recipient (first call or replay).
struct QueuedMail {
  std::int64_t mail_id = 0;
  std::string recipient;
};

// A mail to queue: no token, only what its text needs (`content`).
struct NewMail {
  std::string request_id;
  std::string recipient;
  std::string sender;  // From: "addr" or "Name <addr>"
  std::string subject;
  MailRequest content;
};

// Who holds a claimed mail: the dispatcher replica (CALNDRO_REPLICA_ID) and
// a number of this claim, so a mark by a dispatcher whose lease ran out and
// whose mail was claimed again changes nothing.
struct Claim {
  std::string owner;
  std::int64_t number = 0;
};

// A mail in the dispatcher's hands (its row is leased to the claim).
struct OutgoingMail {
  std::int64_t id = 0;
  std::string request_id;  // the idempotency key it was queued under, for logs
  std::int64_t event_id = 0;
  std::string recipient;
  std::string sender;  // From, as stored: "addr" or "Name <addr>"
  std::string subject;
  // What the text needs (no token yet); nullopt for a row written before
  // migration 0002, whose finished text (with its token) is in legacy_body.
  // Both empty: the row is unreadable, which this service never writes.
  std::optional<MailRequest> content;
  std::string legacy_body;
  int attempts = 0;  // before this one
  Instant queued_at;
};

enum class MailState { kQueued, kSent, kFailed };

struct DeliveryRow {
  std::int64_t id = 0;
  std::int64_t event_id = 0;
  std::string recipient;
  std::string subject;
  MailState state = MailState::kQueued;
  int attempts = 0;
  std::string last_error;
  Instant queued_at;
  std::optional<Instant> sent_at;
  Instant next_attempt_at;
};

// The mail outbox (SPEC §6) and the idempotency keys of QueueNotifications.
class Outbox {
 public:
  virtual ~Outbox() = default;

  // Records the idempotency key. False when the key exists already (after
  // waiting for a concurrent transaction holding it to finish).
  virtual bool insert_request(Transaction& tx, const std::string& request_id, std::int64_t event_id,
                              const std::string& content_hash) = 0;
  // The stored content hash of a request id.
  virtual std::optional<std::string> request_content_hash(Transaction& tx, const std::string& request_id) = 0;
  // What a request queued, in queueing order.
  virtual std::vector<QueuedMail> queued_for_request(Transaction& tx, const std::string& request_id) = 0;
  // Queues one mail, due now. Returns its id.
  virtual std::int64_t enqueue(Transaction& tx, const NewMail& mail) = 0;

  // Leases the oldest due queued mail that no unexpired lease holds to
  // `claim` for `lease` (database clock), or nothing. Committed with `tx`, the
  // lease outlives the transaction and the connection: no dispatcher claims
  // the mail again before the lease ends or a mark below ends it.
  virtual std::optional<OutgoingMail> claim_next(Transaction& tx, const Claim& claim,
                                                 std::chrono::milliseconds lease) = 0;
  // The marks end the lease. Each changes the mail only while `claim` still
  // holds it; false when it no longer does (the lease ran out and another
  // claim took the mail), and then nothing changed.
  // `token_id`: the token minted for this sending (nullopt for a row whose
  // token row exists already, see OutgoingMail::legacy_body).
  virtual bool mark_sent(Transaction& tx, std::int64_t id, std::optional<std::int64_t> token_id,
                         const Claim& claim) = 0;
  // attempts + 1, due again after `delay`.
  virtual bool mark_retry(Transaction& tx, std::int64_t id, const std::string& error,
                          std::chrono::milliseconds delay, const Claim& claim) = 0;
  virtual bool mark_failed(Transaction& tx, std::int64_t id, const std::string& error,
                           const Claim& claim) = 0;
  // Ends the leases `owner` holds: a replica starting again takes back the
  // mails its previous process had claimed (and may have been sending when
  // it died) rather than leaving them until their leases run out.
  virtual int release_leases(Transaction& tx, const std::string& owner) = 0;
  // Ends the lease of this one claim on a mail still queued (one whose
  // claim's COMMIT was in doubt: the mail was not sent).
  virtual int release_claim(Transaction& tx, const Claim& claim) = 0;
  // Mails waiting to be sent (queued, including those waiting for a retry).
  virtual std::int64_t depth(Transaction& tx) = 0;
  // Newest first; event_id 0 = all; before_id 0 = from the newest.
  virtual std::vector<DeliveryRow> list(Transaction& tx, std::int64_t event_id, std::int64_t before_id,
                                        int limit) = 0;

  // Retention (see retention.h): at most `batch` rows each, the number deleted.
  // Sent or failed mails finished more than `days` ago.
  virtual int purge_finished(Transaction& tx, int days, int batch) = 0;
  // Idempotency records older than `days` that no remaining mail refers to.
  virtual int purge_requests(Transaction& tx, int days, int batch) = 0;
};

// A token as stored: its hash and fingerprint, never the token itself.
struct NewToken {
  std::string hash;
  std::string fingerprint;
  std::int64_t event_id = 0;
  std::string party_email;
  Instant expires;
  std::string request_id;
};

struct TokenRecord {
  std::int64_t id = 0;
  std::string hash;
  std::string fingerprint;
  std::int64_t event_id = 0;
  std::string party_email;
  Instant expires;
};

// Email tokens (see token_store.h for minting).
class TokenStore {
 public:
  virtual ~TokenStore() = default;
  virtual std::int64_t insert(Transaction& tx, const NewToken& token) = 0;
  // Takes back a token whose mail was not sent.
  virtual void remove(Transaction& tx, std::int64_t id) = 0;
  virtual std::optional<TokenRecord> find_by_hash(Transaction& tx, const std::string& hash) = 0;
  // Retention: at most `batch` tokens expired more than `days` ago; the
  // number deleted (their mails' records lose the reference).
  virtual int purge_expired(Transaction& tx, int days, int batch) = 0;
};

// What the service, the dispatcher and the purge are given (main wires them).
struct Stores {
  Database& database;
  Outbox& outbox;
  TokenStore& tokens;
};

}  // namespace calndro::notify
