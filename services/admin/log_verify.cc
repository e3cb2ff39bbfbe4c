#include "admin/log_verify.h"

#include "common/audit/chain_check.h"
#include "events/event_store.h"

namespace calndro::admin {
namespace {

std::vector<audit::StoredEntry> sealed_entries(pqxx::transaction_base& tx, std::int64_t event_id) {
  std::vector<audit::StoredEntry> sealed;
  const auto rows = tx.exec_params(std::string("SELECT ") + events::kLogEntryColumns +
                                       " FROM events.log_entries WHERE event_id = $1 AND seq IS NOT NULL",
                                   event_id);
  for (const auto& row : rows) {
    const events::LogEntryRecord entry = events::log_entry_from_row(row);
    sealed.push_back({.content = events::chained_entry(event_id, entry.link->seq, entry),
                      .prev = entry.link->prev,
                      .hash = entry.link->hash});
  }
  return sealed;
}

std::optional<audit::LogHead> stored_head(pqxx::transaction_base& tx, std::int64_t event_id) {
  const auto rows = tx.exec_params(
      "SELECT seq, hash, (extract(epoch FROM signed_at) * 1000000)::bigint, signature "
      "FROM events.log_heads WHERE event_id = $1 AND seq IS NOT NULL",
      event_id);
  if (rows.empty()) {
    return std::nullopt;
  }
  return audit::LogHead{.event_id = event_id,
                        .seq = rows[0][0].as<std::int64_t>(),
                        .hash = rows[0][1].as<std::string>(),
                        .signed_at = Instant(Micros(rows[0][2].as<long long>())),
                        .signature = rows[0][3].as<std::string>()};
}

}  // namespace

LogVerification verify_logs(pqxx::connection& connection, const std::string& public_key_base64,
                            std::optional<std::int64_t> only_event) {
  // One snapshot for every chain: a sealer committing meanwhile moves an
  // entry and its head together, never one without the other.
  pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(connection);
  const auto events = tx.exec_params(
      "SELECT event_id FROM events.log_entries WHERE seq IS NOT NULL AND ($1::bigint IS NULL OR event_id = "
      "$1) "
      "UNION SELECT event_id FROM events.log_heads WHERE seq IS NOT NULL AND ($1::bigint IS NULL OR event_id "
      "= $1) "
      "ORDER BY 1",
      only_event);
  LogVerification result;
  for (const auto& row : events) {
    const auto event_id = row[0].as<std::int64_t>();
    std::vector<audit::StoredEntry> sealed = sealed_entries(tx, event_id);
    result.events += 1;
    result.entries += static_cast<std::int64_t>(sealed.size());
    if (const auto broken =
            audit::first_break(std::move(sealed), stored_head(tx, event_id), public_key_base64)) {
      result.broken.push_back("event " + std::to_string(event_id) + ": " + *broken);
    }
  }
  return result;
}

}  // namespace calndro::admin
