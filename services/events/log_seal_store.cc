#include "events/log_seal_store.h"

#include "events/event_store.h"

namespace calndro::events {
namespace {

// Lists travel to SQL as one JSON parameter: no array-literal escaping.
std::string ids_json(const std::vector<std::int64_t>& ids) {
  return nlohmann::json(ids).dump();
}

}  // namespace

void prepare_log_seal_statements(pqxx::connection& connection) {
  // The partial index log_entries_unsealed holds only what waits to be
  // sealed: a round reads the backlog, not the log.
  connection.prepare("seal_events_due",
                     "SELECT event_id FROM events.log_entries WHERE seq IS NULL "
                     "GROUP BY event_id ORDER BY min(id) LIMIT $1");
  // Sorted, so that two replicas adding the same rows take them in one order.
  connection.prepare("seal_add_heads",
                     "INSERT INTO events.log_heads (event_id) "
                     "SELECT value::bigint FROM jsonb_array_elements_text($1::jsonb) ORDER BY 1 "
                     "ON CONFLICT (event_id) DO NOTHING");
  connection.prepare("seal_lock_heads",
                     "SELECT event_id, coalesce(seq, 0), coalesce(hash, $2) FROM events.log_heads "
                     "WHERE event_id IN (SELECT value::bigint FROM jsonb_array_elements_text($1::jsonb)) "
                     "ORDER BY event_id FOR UPDATE SKIP LOCKED");
  connection.prepare("seal_unsealed", std::string("SELECT event_id, ") + kLogEntryColumns +
                                          " FROM events.log_entries WHERE seq IS NULL AND event_id IN "
                                          "(SELECT value::bigint FROM jsonb_array_elements_text($1::jsonb)) "
                                          "ORDER BY event_id, id LIMIT $2");
  // `seq IS NULL` again: an entry is sealed once, whatever happens.
  connection.prepare("seal_entries",
                     "UPDATE events.log_entries e SET seq = l.seq, prev = l.prev, hash = l.hash "
                     "FROM jsonb_to_recordset($1::jsonb) AS l(id bigint, seq bigint, prev text, hash text) "
                     "WHERE e.id = l.id AND e.seq IS NULL");
  connection.prepare("seal_move_heads",
                     "UPDATE events.log_heads h SET seq = v.seq, hash = v.hash, "
                     "signed_at = 'epoch'::timestamptz + v.signed_at * interval '1 microsecond', "
                     "key_id = $2, signature = v.signature "
                     "FROM jsonb_to_recordset($1::jsonb) "
                     "AS v(event_id bigint, seq bigint, hash text, signed_at bigint, signature text) "
                     "WHERE h.event_id = v.event_id");
}

std::vector<std::int64_t> PgLogSealRepository::events_to_seal(int limit) {
  std::vector<std::int64_t> events;
  for (const auto& row : tx_.exec_prepared("seal_events_due", limit)) {
    events.push_back(row[0].as<std::int64_t>());
  }
  return events;
}

void PgLogSealRepository::add_head_rows(const std::vector<std::int64_t>& events) {
  tx_.exec_prepared0("seal_add_heads", ids_json(events));
}

std::vector<ChainTip> PgLogSealRepository::lock_heads(const std::vector<std::int64_t>& events) {
  std::vector<ChainTip> tips;
  for (const auto& row :
       tx_.exec_prepared("seal_lock_heads", ids_json(events), std::string(audit::kGenesisHash))) {
    tips.push_back({row[0].as<std::int64_t>(), row[1].as<std::int64_t>(), row[2].as<std::string>()});
  }
  return tips;
}

std::vector<UnsealedEntry> PgLogSealRepository::unsealed_entries(const std::vector<std::int64_t>& events,
                                                                 int limit) {
  std::vector<UnsealedEntry> entries;
  for (const auto& row : tx_.exec_prepared("seal_unsealed", ids_json(events), limit)) {
    // log_entry_from_row() reads from the first column: the entry's own
    // columns come after event_id.
    pqxx::row entry_row = row.slice(1, row.size());
    entries.push_back({row[0].as<std::int64_t>(), log_entry_from_row(entry_row)});
  }
  return entries;
}

void PgLogSealRepository::seal(const std::vector<std::pair<std::int64_t, ChainLink>>& links) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& [id, link] : links) {
    rows.push_back({{"id", id}, {"seq", link.seq}, {"prev", link.prev}, {"hash", link.hash}});
  }
  tx_.exec_prepared0("seal_entries", rows.dump());
}

void PgLogSealRepository::move_heads(const std::vector<audit::LogHead>& heads, const std::string& key_id) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& head : heads) {
    rows.push_back({{"event_id", head.event_id},
                    {"seq", head.seq},
                    {"hash", head.hash},
                    {"signed_at", head.signed_at.time_since_epoch().count()},
                    {"signature", head.signature}});
  }
  tx_.exec_prepared0("seal_move_heads", rows.dump(), key_id);
}

}  // namespace calndro::events
