#include "notify/webhook_store.h"

#include <algorithm>

#include "notify/pg_database.h"

namespace calndro::notify {
namespace {

#define WEBHOOK_MICROS(column) "(extract(epoch FROM " column ") * 1000000)::bigint"
#define WEBHOOK_AT(param) "'epoch'::timestamptz + " param "::bigint * interval '1 microsecond'"

constexpr Statement kInsertEndpoint{
    "webhook_insert_endpoint",
    "INSERT INTO notify.webhook_endpoints (webhook_id, url, secret_sealed) VALUES ($1, $2, $3)"
    " ON CONFLICT (webhook_id) DO NOTHING RETURNING webhook_id"};

constexpr Statement kRemoveEndpoint{"webhook_remove_endpoint",
                                    "DELETE FROM notify.webhook_endpoints WHERE webhook_id = $1"};

constexpr Statement kEndpointExists{
    "webhook_endpoint_exists",
    "SELECT EXISTS (SELECT 1 FROM notify.webhook_endpoints WHERE webhook_id = $1)"};

constexpr Statement kEnqueue{
    "webhook_enqueue",
    "INSERT INTO notify.webhook_messages (message_id, webhook_id, event_id, sequence, type, version, "
    "occurred_at,"
    " body) VALUES ($1, $2, $3, $4, $5, $6, " WEBHOOK_AT("$7") ", $8) ON CONFLICT (message_id) DO NOTHING"};

// One message per claim (LIMIT 1), SKIP LOCKED: replicas claiming at once
// take different rows. A message waits while an earlier one of its
// (webhook, event) is queued (version order), leased or not.
constexpr Statement kClaim{
    "webhook_claim",
    "UPDATE notify.webhook_messages m SET lease_owner = $1,"
    " lease_until = now() + $2::bigint * interval '1 millisecond'"
    " FROM (SELECT c.message_id FROM notify.webhook_messages c WHERE c.state = 'queued'"
    "   AND c.next_attempt_at <= now() AND (c.lease_until IS NULL OR c.lease_until <= now())"
    "   AND NOT EXISTS (SELECT 1 FROM notify.webhook_messages p WHERE p.state = 'queued'"
    "     AND p.webhook_id = c.webhook_id AND p.event_id = c.event_id AND p.sequence < c.sequence)"
    "   ORDER BY c.next_attempt_at, c.sequence LIMIT 1 FOR UPDATE OF c SKIP LOCKED) due,"
    " notify.webhook_endpoints e"
    " WHERE m.message_id = due.message_id AND e.webhook_id = m.webhook_id"
    " RETURNING m.message_id, m.webhook_id, m.event_id, m.sequence, m.type, m.version, " WEBHOOK_MICROS(
        "m.occurred_at") ", m.body, m.attempts, e.url, e.secret_sealed"};

// The attempt and the message's next state in one statement, only while
// this claim still holds the message.
constexpr Statement kRecordAttempt{
    "webhook_record_attempt",
    "WITH m AS (UPDATE notify.webhook_messages SET attempts = attempts + 1, state = $3, lease_until = NULL,"
    " next_attempt_at = " WEBHOOK_AT("$4") ","
    " finished_at = CASE WHEN $3 = 'queued' THEN NULL ELSE clock_timestamp() END"
    " WHERE message_id = $1 AND lease_owner = $2 AND state = 'queued'"
    " RETURNING webhook_id, message_id, type, version, attempts)"
    " INSERT INTO notify.webhook_attempts (webhook_id, message_id, type, version, attempt, at, status, error)"
    " SELECT webhook_id, message_id, type, version, attempts, " WEBHOOK_AT("$5") ", $6::integer, $7::text FROM m"
    " RETURNING id"};

constexpr Statement kListAttempts{
    "webhook_list_attempts",
    "SELECT id, webhook_id, message_id, type, version, attempt, " WEBHOOK_MICROS(
        "at") ", status, error FROM notify.webhook_attempts"
              " WHERE webhook_id = $1 AND ($2::bigint = 0 OR id < $2) ORDER BY id DESC LIMIT $3"};

constexpr Statement kPurgeMessages{
    "webhook_purge_messages",
    "DELETE FROM notify.webhook_messages WHERE message_id IN (SELECT message_id FROM notify.webhook_messages"
    " WHERE state <> 'queued' AND finished_at < now() - $1::integer * interval '1 day' LIMIT $2)"};

constexpr Statement kPurgeAttempts{
    "webhook_purge_attempts",
    "DELETE FROM notify.webhook_attempts WHERE id IN (SELECT id FROM notify.webhook_attempts"
    " WHERE at < now() - $1::integer * interval '1 day' ORDER BY id LIMIT $2)"};

long long micros(Instant instant) {
  return instant.time_since_epoch().count();
}

const char* state_name(WebhookMessageState state) {
  switch (state) {
    case WebhookMessageState::kQueued:
      return "queued";
    case WebhookMessageState::kDelivered:
      return "delivered";
    case WebhookMessageState::kFailed:
      return "failed";
  }
  return "failed";
}

}  // namespace

void PgWebhookStore::prepare(pqxx::connection& connection) {
  prepare_all(connection, {kInsertEndpoint, kRemoveEndpoint, kEndpointExists, kEnqueue, kClaim,
                           kRecordAttempt, kListAttempts, kPurgeMessages, kPurgeAttempts});
}

bool PgWebhookStore::insert_endpoint(Transaction& tx, const WebhookEndpoint& endpoint) {
  return !pg(tx)
              .exec_prepared(kInsertEndpoint.name, endpoint.webhook_id, endpoint.url, endpoint.secret_sealed)
              .empty();
}

void PgWebhookStore::remove_endpoint(Transaction& tx, std::int64_t webhook_id) {
  pg(tx).exec_prepared(kRemoveEndpoint.name, webhook_id);
}

bool PgWebhookStore::endpoint_exists(Transaction& tx, std::int64_t webhook_id) {
  return pg(tx).exec_prepared1(kEndpointExists.name, webhook_id)[0].as<bool>();
}

void PgWebhookStore::enqueue_message(Transaction& tx, const WebhookMessageRecord& message) {
  pg(tx).exec_prepared(kEnqueue.name, message.message_id, message.webhook_id, message.event_id,
                       message.sequence, message.type, message.version, micros(message.occurred_at),
                       message.body);
}

std::optional<ClaimedWebhookMessage> PgWebhookStore::claim_message(Transaction& tx,
                                                                   const std::string& lease_owner,
                                                                   std::chrono::milliseconds lease) {
  const auto row =
      first_row(pg(tx).exec_prepared(kClaim.name, lease_owner, static_cast<long long>(lease.count())));
  if (!row) {
    return std::nullopt;
  }
  ClaimedWebhookMessage claimed;
  WebhookMessageRecord& message = claimed.message;
  message.message_id = (*row)[0].as<std::string>();
  message.webhook_id = (*row)[1].as<std::int64_t>();
  message.event_id = (*row)[2].as<std::int64_t>();
  message.sequence = (*row)[3].as<std::int64_t>();
  message.type = (*row)[4].as<std::string>();
  message.version = (*row)[5].as<std::int64_t>();
  message.occurred_at = Instant(Micros((*row)[6].as<long long>()));
  message.body = (*row)[7].as<std::string>();
  claimed.attempts = (*row)[8].as<int>();
  claimed.url = (*row)[9].as<std::string>();
  claimed.secret_sealed = (*row)[10].as<std::string>();
  claimed.lease_owner = lease_owner;
  return claimed;
}

bool PgWebhookStore::record_attempt(Transaction& tx, const ClaimedWebhookMessage& claimed,
                                    const WebhookAttemptOutcome& outcome) {
  return !pg(tx)
              .exec_prepared(kRecordAttempt.name, claimed.message.message_id, claimed.lease_owner,
                             std::string(state_name(outcome.next)), micros(outcome.next_attempt_at),
                             micros(outcome.at), outcome.status, outcome.error)
              .empty();
}

std::vector<WebhookAttemptRow> PgWebhookStore::list_attempts(Transaction& tx, std::int64_t webhook_id,
                                                             std::int64_t before_id, int limit) {
  std::vector<WebhookAttemptRow> rows;
  for (const auto& row : pg(tx).exec_prepared(kListAttempts.name, webhook_id, before_id, limit)) {
    WebhookAttemptRow out;
    out.id = row[0].as<std::int64_t>();
    out.webhook_id = row[1].as<std::int64_t>();
    out.message_id = row[2].as<std::string>();
    out.type = row[3].as<std::string>();
    out.version = row[4].as<std::int64_t>();
    out.attempt = row[5].as<int>();
    out.at = Instant(Micros(row[6].as<long long>()));
    if (!row[7].is_null()) {
      out.status = row[7].as<int>();
    }
    if (!row[8].is_null()) {
      out.error = row[8].as<std::string>();
    }
    rows.push_back(std::move(out));
  }
  return rows;
}

int PgWebhookStore::purge_finished(Transaction& tx, int days, int batch) {
  const auto messages = pg(tx).exec_prepared(kPurgeMessages.name, days, batch).affected_rows();
  const auto attempts = pg(tx).exec_prepared(kPurgeAttempts.name, days, batch).affected_rows();
  return static_cast<int>(std::max(messages, attempts));  // a full batch of either: another round
}

}  // namespace calndro::notify
