#include "events/notify_outbox.h"

#include <nlohmann/json.hpp>

#include "events/event_store.h"

namespace calndro::events {
namespace {

long long micros(Instant instant) {
  return instant.time_since_epoch().count();
}

constexpr const char* kAt = "'epoch'::timestamptz + $2 * interval '1 microsecond'";

}  // namespace

void prepare_outbox_statements(pqxx::connection& connection) {
  const std::string at = kAt;
  connection.prepare("outbox_add",
                     "INSERT INTO events.pending_notifications "
                     "(id, created_at, next_attempt_at, event_id, recipients, request, caller_request_id, "
                     "caused_by) VALUES ($1, " +
                         at + ", " + at + ", $3, $4::jsonb, $5::jsonb, $6, $7)");
  // One statement: the claim commits on its own, so no transaction (and no
  // connection) stays open across the call to the notification service.
  connection.prepare(
      "outbox_claim",
      "UPDATE events.pending_notifications p SET next_attempt_at = "
      "'epoch'::timestamptz + $2 * interval '1 microsecond', attempts = p.attempts + 1 "
      "FROM (SELECT id FROM events.pending_notifications WHERE state = 'pending' AND "
      "  next_attempt_at <= 'epoch'::timestamptz + $1 * interval '1 microsecond' "
      "  ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) due "
      "WHERE p.id = due.id "
      "RETURNING p.id, p.event_id, p.recipients, p.request, p.attempts - 1, p.caller_request_id, "
      // The event's log head as the mail is handed over: its receipt (SPEC §10).
      "(SELECT h.seq FROM events.log_heads h WHERE h.event_id = p.event_id), "
      "(SELECT h.hash FROM events.log_heads h WHERE h.event_id = p.event_id)");
  connection.prepare("outbox_handed_over",
                     "UPDATE events.pending_notifications SET state = 'handed_over', last_error = NULL, "
                     "handed_over_at = " +
                         at + " WHERE id = $1 AND state = 'pending'");
  connection.prepare("outbox_retry", "UPDATE events.pending_notifications SET next_attempt_at = " + at +
                                         ", last_error = $3 WHERE id = $1 AND state = 'pending'");
  connection.prepare("outbox_refused",
                     "UPDATE events.pending_notifications SET state = 'refused', last_error = $3, "
                     "handed_over_at = " +
                         at + " WHERE id = $1 AND state = 'pending'");
  // Whatever became of the rows since (handed over, refused): their mails
  // were caused all the same.
  connection.prepare(
      "outbox_mails_caused_since",
      "SELECT (extract(epoch FROM created_at) * 1000000)::bigint, jsonb_array_length(recipients) "
      "FROM events.pending_notifications WHERE event_id = $1 AND caused_by = $3 AND "
      "created_at > " +
          at + " ORDER BY created_at");
  connection.prepare("outbox_backlog",
                     "SELECT count(*), (extract(epoch FROM min(created_at)) * 1000000)::bigint "
                     "FROM events.pending_notifications WHERE state = 'pending'");
}

void PgNotificationOutbox::add(const PendingNotification& notification, Instant now) {
  written_once([&] {
    tx_.exec_prepared("outbox_add", notification.id, micros(now), notification.event_id,
                      nlohmann::json(notification.recipients).dump(), notification.request,
                      notification.caller_request_id, notification.caused_by);
  });
}

std::vector<QueuedMails> PgNotificationOutbox::mails_caused_since(std::int64_t event_id,
                                                                  const std::string& caused_by,
                                                                  Instant since) {
  std::vector<QueuedMails> queued;
  for (const auto& row : tx_.exec_prepared("outbox_mails_caused_since", event_id, micros(since), caused_by)) {
    queued.push_back({Instant(Micros(row[0].as<long long>())), row[1].as<std::int64_t>()});
  }
  return queued;
}

std::vector<PendingNotification> PgNotificationOutbox::claim_due(Instant now, Instant lease_until,
                                                                 int limit) {
  const auto result = written_once(
      [&] { return tx_.exec_prepared("outbox_claim", micros(now), micros(lease_until), limit); });
  std::vector<PendingNotification> claimed;
  for (const auto& row : result) {
    PendingNotification notification;
    notification.id = row[0].as<std::string>();
    notification.event_id = row[1].as<std::int64_t>();
    notification.recipients = nlohmann::json::parse(row[2].c_str()).get<std::vector<std::string>>();
    notification.request = row[3].as<std::string>();
    notification.attempts = row[4].as<int>();
    notification.caller_request_id = row[5].as<std::string>();
    if (!row[6].is_null()) {
      notification.audit_head = AuditReceipt{row[6].as<std::int64_t>(), row[7].as<std::string>()};
    }
    claimed.push_back(std::move(notification));
  }
  return claimed;
}

void PgNotificationOutbox::mark_handed_over(const std::string& id, Instant now) {
  written_once([&] { tx_.exec_prepared("outbox_handed_over", id, micros(now)); });
}

void PgNotificationOutbox::retry_at(const std::string& id, Instant when, const std::string& error) {
  written_once([&] { tx_.exec_prepared("outbox_retry", id, micros(when), error); });
}

void PgNotificationOutbox::mark_refused(const std::string& id, Instant now, const std::string& error) {
  written_once([&] { tx_.exec_prepared("outbox_refused", id, micros(now), error); });
}

NotificationBacklog PgNotificationOutbox::backlog() {
  const auto row = tx_.exec_prepared1("outbox_backlog");
  NotificationBacklog backlog;
  backlog.pending = row[0].as<std::int64_t>();
  if (!row[1].is_null()) {
    backlog.oldest = Instant(Micros(row[1].as<long long>()));
  }
  return backlog;
}

}  // namespace calndro::events
