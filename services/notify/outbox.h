#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <string_view>

#include "notify/mail_composer.h"
#include "notify/stores.h"

// The mail outbox and the idempotency keys on PostgreSQL, schema notify.
// SQL only; the callers own the transactions (a PgDatabase's).
//
// A queued mail holds no token: `content` keeps what its text needs (title,
// sender, invitation, link base, slots), and the dispatcher mints the token,
// writes its hash and composes the link when it claims the mail (see
// dispatcher.h). A row written before migration 0002 carries
// `body`, its finished text with a raw token in the link: it is sent once as
// it is, and mark_sent / mark_failed set body to NULL so that no raw token
// stays in the table.
namespace calndro::notify {

// The `content` column: MailRequest as JSON, event_id aside (a column of its
// own). Control characters of the title become spaces (as in the mail).
std::string encode_mail_content(const MailRequest& request);
// The "calendar" member of that JSON (also what QueueNotifications hashes).
nlohmann::json encode_calendar_json(const CalendarRequest& calendar);
// nullopt when `json` is not what encode_mail_content writes.
std::optional<MailRequest> decode_mail_content(std::int64_t event_id, std::string_view json);

class PgOutbox final : public Outbox {
 public:
  // Prepares the statements on every pooled connection (DbPool's Prepare).
  static void prepare(pqxx::connection& connection);

  bool insert_request(Transaction& tx, const std::string& request_id, std::int64_t event_id,
                      const std::string& content_hash) override;
  std::optional<std::string> request_content_hash(Transaction& tx, const std::string& request_id) override;
  std::vector<QueuedMail> queued_for_request(Transaction& tx, const std::string& request_id) override;
  std::int64_t enqueue(Transaction& tx, const NewMail& mail) override;
  std::optional<OutgoingMail> claim_next(Transaction& tx, const Claim& claim,
                                         std::chrono::milliseconds lease) override;
  bool mark_sent(Transaction& tx, std::int64_t id, std::optional<std::int64_t> token_id,
                 const Claim& claim) override;
  bool mark_retry(Transaction& tx, std::int64_t id, const std::string& error, std::chrono::milliseconds delay,
                  const Claim& claim) override;
  bool mark_failed(Transaction& tx, std::int64_t id, const std::string& error, const Claim& claim) override;
  int release_leases(Transaction& tx, const std::string& owner) override;
  int release_claim(Transaction& tx, const Claim& claim) override;
  std::int64_t depth(Transaction& tx) override;
  std::vector<DeliveryRow> list(Transaction& tx, std::int64_t event_id, std::int64_t before_id,
                                int limit) override;
  int purge_finished(Transaction& tx, int days, int batch) override;
  int purge_requests(Transaction& tx, int days, int batch) override;
};

}  // namespace calndro::notify
