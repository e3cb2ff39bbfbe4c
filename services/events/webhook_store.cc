#include "events/webhook_store.h"

#include <nlohmann/json.hpp>

#include "events/event_store.h"

namespace calndro::events {
namespace {

constexpr const char* kWebhookColumns =
    "id, user_id, url, array_to_json(types)::text, (extract(epoch FROM created_at) * 1000000)::bigint";

WebhookRecord webhook_from_row(const pqxx::row& row) {
  WebhookRecord webhook;
  webhook.id = row[0].as<std::int64_t>();
  webhook.user_id = row[1].as<std::int64_t>();
  webhook.url = row[2].as<std::string>();
  webhook.types = nlohmann::json::parse(row[3].c_str()).get<std::vector<std::string>>();
  webhook.created_at = Instant(Micros(row[4].as<long long>()));
  return webhook;
}

// Lists travel to SQL as one JSON parameter: no array-literal escaping.
std::string json_text(const auto& list) {
  return nlohmann::json(list).dump();
}

// The occurrence's own columns, after the event's (event_from_row reads
// those from the start of the row).
constexpr const char* kOccurrenceColumns =
    "o.id, o.webhook_id, o.event_id, o.version, o.type, "
    "(extract(epoch FROM o.occurred_at) * 1000000)::bigint, e.created_by";
constexpr int kOccurrenceColumnCount = 7;

WebhookOccurrence occurrence_from_row(const pqxx::row& row, const EventRecord& event) {
  const auto first = static_cast<pqxx::row::size_type>(row.size() - kOccurrenceColumnCount);
  WebhookOccurrence occurrence;
  occurrence.id = row[first].as<std::int64_t>();
  occurrence.webhook_id = row[first + 1].as<std::int64_t>();
  occurrence.event_id = row[first + 2].as<std::int64_t>();
  occurrence.version = row[first + 3].as<std::int64_t>();
  occurrence.type = row[first + 4].as<std::string>();
  occurrence.occurred_at = Instant(Micros(row[first + 5].as<long long>()));
  occurrence.creator_id = row[first + 6].as<std::int64_t>();
  occurrence.creator = event.creator;
  return occurrence;
}

}  // namespace

void prepare_webhook_statements(pqxx::connection& connection) {
  const std::string columns = kWebhookColumns;
  connection.prepare("webhook_next_id", "SELECT nextval('events.webhooks_id_seq')");
  connection.prepare("webhook_count", "SELECT count(*) FROM events.webhooks WHERE user_id = $1");
  connection.prepare("webhook_insert",
                     "INSERT INTO events.webhooks (id, user_id, url, types, created_at) "
                     "SELECT $1, $2, $3, array(SELECT jsonb_array_elements_text($4::jsonb)), "
                     "'epoch'::timestamptz + $5 * interval '1 microsecond'");
  connection.prepare("webhook_find", "SELECT " + columns + " FROM events.webhooks WHERE id = $1");
  connection.prepare("webhook_list", "SELECT " + columns +
                                         " FROM events.webhooks WHERE user_id = $1 AND id > $2 "
                                         "ORDER BY id LIMIT $3");
  // The occurrences waiting for it go with it (ON DELETE CASCADE).
  connection.prepare("webhook_delete", "DELETE FROM events.webhooks WHERE id = $1");
  connection.prepare("webhook_record_notified",
                     "INSERT INTO events.webhook_occurrences "
                     "(webhook_id, event_id, version, type, occurred_at, event_row) "
                     "SELECT w.id, e.id, e.version, 'event.notified', clock_timestamp(), to_jsonb(e) "
                     "FROM events.events e JOIN events.webhooks w ON w.user_id = e.created_by "
                     "WHERE e.id = $1 AND 'event.notified' = ANY (w.types)");
  connection.prepare("webhook_relay_lock",
                     "SELECT pg_try_advisory_xact_lock(hashtext('calndro-webhook-relay'))");
  // The event as the write left it: the stored row read back into the
  // table's own row type, so event_from_row() reads it as any event.
  connection.prepare("webhook_occurrences_oldest",
                     std::string("SELECT ") + event_columns() + ", " + kOccurrenceColumns +
                         " FROM events.webhook_occurrences o "
                         "CROSS JOIN LATERAL jsonb_populate_record(NULL::events.events, o.event_row) e "
                         "ORDER BY o.id LIMIT $1");
  connection.prepare("webhook_occurrences_delete",
                     "DELETE FROM events.webhook_occurrences "
                     "WHERE id IN (SELECT value::bigint FROM jsonb_array_elements_text($1::jsonb))");
}

std::int64_t PgWebhookRepository::next_webhook_id() {
  return tx_.exec_prepared1("webhook_next_id")[0].as<std::int64_t>();
}

int PgWebhookRepository::count_webhooks(std::int64_t user_id) {
  return tx_.exec_prepared1("webhook_count", user_id)[0].as<int>();
}

void PgWebhookRepository::insert_webhook(const WebhookRecord& webhook) {
  written_once([&] {
    tx_.exec_prepared0("webhook_insert", webhook.id, webhook.user_id, webhook.url, json_text(webhook.types),
                       static_cast<long long>(webhook.created_at.time_since_epoch().count()));
  });
}

std::optional<WebhookRecord> PgWebhookRepository::find_webhook(std::int64_t id) {
  const pqxx::result result = tx_.exec_prepared("webhook_find", id);
  if (result.empty()) {
    return std::nullopt;
  }
  return webhook_from_row(result[0]);
}

std::vector<WebhookRecord> PgWebhookRepository::list_webhooks(std::int64_t user_id, std::int64_t after,
                                                              int limit) {
  std::vector<WebhookRecord> webhooks;
  for (const auto& row : tx_.exec_prepared("webhook_list", user_id, after, limit + 1)) {
    webhooks.push_back(webhook_from_row(row));
  }
  return webhooks;
}

bool PgWebhookRepository::delete_webhook(std::int64_t id) {
  return written_once([&] { return tx_.exec_prepared("webhook_delete", id).affected_rows() > 0; });
}

void PgWebhookRepository::record_notified(std::int64_t event_id) {
  written_once([&] { tx_.exec_prepared0("webhook_record_notified", event_id); });
}

bool PgWebhookRepository::lock_relay() {
  return tx_.exec_prepared1("webhook_relay_lock")[0].as<bool>();
}

std::vector<WebhookOccurrence> PgWebhookRepository::oldest_occurrences(int limit,
                                                                       std::vector<EventRecord>& events) {
  std::vector<WebhookOccurrence> occurrences;
  for (const auto& row : tx_.exec_prepared("webhook_occurrences_oldest", limit)) {
    events.push_back(event_from_row(row));
    occurrences.push_back(occurrence_from_row(row, events.back()));
  }
  return occurrences;
}

void PgWebhookRepository::delete_occurrences(const std::vector<std::int64_t>& ids) {
  written_once([&] { tx_.exec_prepared0("webhook_occurrences_delete", json_text(ids)); });
}

}  // namespace calndro::events
