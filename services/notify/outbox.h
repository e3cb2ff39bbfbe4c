#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "common/time_format.h"
#include "notify/mail_composer.h"

// The mail outbox (SPEC §6) and the idempotency keys of QueueNotifications,
// schema notify. SQL only; the callers own the transactions.
//
// A queued mail holds no token: `content` keeps what its text needs (title,
// sender, invitation, link base, slots), and the dispatcher mints the token,
// writes its hash and composes the link in the transaction that sends the
// mail (see dispatcher.h). Mails queued by the previous version still carry
// `body` with a raw token in the link; they are sent once as they are, and
// mark_sent / mark_failed set body to NULL as before.
namespace calndro::notify {

// What QueueNotifications answers for one recipient (first call or replay).
struct QueuedMail {
  std::int64_t mail_id = 0;
  std::string recipient;
};

// A mail in the dispatcher's hands (its row is locked by the transaction).
struct OutgoingMail {
  std::int64_t id = 0;
  std::string request_id;  // the idempotency key it was queued under, for logs
  std::int64_t event_id = 0;
  std::string recipient;
  std::string sender;  // From, as stored: "addr" or "Name <addr>"
  std::string subject;
  // What the text needs (no token yet), or nullopt for a mail queued by the
  // previous version, whose finished text is in legacy_body (both empty: the
  // row is unreadable, which this service never writes).
  std::optional<MailRequest> content;
  std::string legacy_body;
  int attempts = 0;  // before this one
  Instant queued_at;
};

// The `content` column: MailRequest as JSON, event_id aside (a column of its
// own). Control characters of the title become spaces (as in the mail).
std::string encode_mail_content(const MailRequest& request);
// nullopt when `json` is not what encode_mail_content writes.
std::optional<MailRequest> decode_mail_content(std::int64_t event_id, std::string_view json);

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
  static std::int64_t enqueue(pqxx::work& tx, const std::string& request_id, std::int64_t event_id,
                              const std::string& recipient, const std::string& sender,
                              const std::string& subject, const MailRequest& content);

  // Locks the oldest due queued mail (FOR UPDATE SKIP LOCKED), or nothing.
  // The lock holds until `tx` ends: no other dispatcher can claim it.
  static std::optional<OutgoingMail> claim_next(pqxx::work& tx);
  // `token_id`: the token minted for this sending (nullopt for a legacy mail,
  // whose token row exists already).
  static void mark_sent(pqxx::work& tx, std::int64_t id, std::optional<std::int64_t> token_id);
  static void mark_retry(pqxx::work& tx, std::int64_t id, const std::string& error,
                         std::chrono::milliseconds delay);
  static void mark_failed(pqxx::work& tx, std::int64_t id, const std::string& error);
  // Mails waiting to be sent (queued, including those waiting for a retry).
  static std::int64_t depth(pqxx::transaction_base& tx);

  // Retention (see retention.h): at most `batch` rows each, the number deleted.
  // Sent or failed mails finished more than `days` ago.
  static int purge_finished(pqxx::work& tx, int days, int batch);
  // Idempotency records older than `days` that no remaining mail refers to.
  static int purge_requests(pqxx::work& tx, int days, int batch);

  // Newest first; event_id 0 = all; before_id 0 = from the newest.
  static std::vector<DeliveryRow> list(pqxx::transaction_base& tx, std::int64_t event_id,
                                       std::int64_t before_id, int limit);
};

}  // namespace calndro::notify
