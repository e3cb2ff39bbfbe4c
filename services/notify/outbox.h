#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "common/time_format.h"

// The mail outbox (SPEC §6) and the idempotency keys of QueueNotifications,
// schema notify. SQL only; the callers own the transactions.
//
// The raw token is in `body` (the mail text with the link) while a mail is
// queued: the outbox *is* the mail until an SMTP server has accepted it, and
// an outage must lose nothing. mark_sent and mark_failed set body to NULL in
// the same statement that ends the mail's life (a CHECK constraint enforces
// it), so after delivery the token exists only in the recipient's mailbox
// and as a hash. Old row versions linger in the table file until VACUUM;
// that is below SQL level and not reachable through any query.
namespace calndro::notify {

// What QueueNotifications answers for one recipient (first call or replay).
struct QueuedMail {
  std::int64_t mail_id = 0;
  std::string recipient;
  std::string token_fingerprint;
  Instant token_expires;
};

// A mail in the dispatcher's hands (its row is locked by the transaction).
struct OutgoingMail {
  std::int64_t id = 0;
  std::string request_id;  // the idempotency key it was queued under, for logs
  std::string recipient;
  std::string sender;  // From, as stored: "addr" or "Name <addr>"
  std::string subject;
  std::string body;
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

class Outbox {
 public:
  static void prepare(pqxx::connection& connection);

  // Records the idempotency key. False when the key exists already (after
  // waiting for a concurrent transaction holding it to finish).
  static bool insert_request(pqxx::work& tx, const std::string& request_id, std::int64_t event_id,
                             const std::string& content_hash);
  // The stored content hash of a request id.
  static std::optional<std::string> request_content_hash(pqxx::work& tx, const std::string& request_id);
  // What a request queued, in queueing order.
  static std::vector<QueuedMail> queued_for_request(pqxx::work& tx, const std::string& request_id);

  // Queues one mail, due now (database clock). Returns its id.
  static std::int64_t enqueue(pqxx::work& tx, const std::string& request_id, std::int64_t token_id,
                              std::int64_t event_id, const std::string& recipient, const std::string& sender,
                              const std::string& subject, const std::string& body);

  // Locks the oldest due queued mail (FOR UPDATE SKIP LOCKED), or nothing.
  // The lock holds until `tx` ends: no other dispatcher can claim it.
  static std::optional<OutgoingMail> claim_next(pqxx::work& tx);
  static void mark_sent(pqxx::work& tx, std::int64_t id);
  static void mark_retry(pqxx::work& tx, std::int64_t id, const std::string& error, std::chrono::milliseconds delay);
  static void mark_failed(pqxx::work& tx, std::int64_t id, const std::string& error);
  // Mails waiting to be sent (queued, including those waiting for a retry).
  static std::int64_t depth(pqxx::transaction_base& tx);

  // Newest first; event_id 0 = all; before_id 0 = from the newest.
  static std::vector<DeliveryRow> list(pqxx::transaction_base& tx, std::int64_t event_id, std::int64_t before_id,
                                       int limit);
};

}  // namespace calndro::notify
