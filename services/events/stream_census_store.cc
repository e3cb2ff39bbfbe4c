#include "events/stream_census_store.h"

#include <nlohmann/json.hpp>

namespace calndro::events {
void prepare_stream_census_statements(pqxx::connection& connection) {
  connection.prepare("census_lock_caller",
                     "SELECT pg_advisory_xact_lock(hashtext('calndro-streams:' || $1))");
  connection.prepare("census_open_elsewhere",
                     "SELECT COALESCE(sum(open), 0)::bigint FROM events.stream_census "
                     "WHERE caller_key = $1 AND replica <> $2 "
                     "AND refreshed_at >= clock_timestamp() - $3 * interval '1 second'");
  // The counts travel as one JSON object {"caller key": streams}.
  connection.prepare("census_record",
                     "INSERT INTO events.stream_census (replica, caller_key, open, refreshed_at) "
                     "SELECT $1, key, value::integer, clock_timestamp() FROM jsonb_each_text($2::jsonb) "
                     "ON CONFLICT (replica, caller_key) "
                     "DO UPDATE SET open = excluded.open, refreshed_at = excluded.refreshed_at");
  connection.prepare("census_forget_others",
                     "DELETE FROM events.stream_census WHERE replica = $1 AND NOT ($2::jsonb ? caller_key)");
  connection.prepare("census_forget_stale",
                     "DELETE FROM events.stream_census "
                     "WHERE refreshed_at < clock_timestamp() - $1 * interval '1 second'");
}

void PgStreamCensusRepository::lock_caller(const std::string& caller_key) {
  tx_.exec_prepared("census_lock_caller", caller_key);
}

std::int64_t PgStreamCensusRepository::open_elsewhere(const std::string& replica,
                                                      const std::string& caller_key,
                                                      std::chrono::seconds fresh) {
  return tx_
      .exec_prepared1("census_open_elsewhere", caller_key, replica, static_cast<long long>(fresh.count()))[0]
      .as<std::int64_t>();
}

void PgStreamCensusRepository::record(const std::string& replica,
                                      const std::map<std::string, std::size_t>& open, Scope scope) {
  const std::string counts = nlohmann::json(open).dump();
  if (scope == Scope::kWholeReplica) {
    tx_.exec_prepared0("census_forget_others", replica, counts);
  }
  if (!open.empty()) {
    tx_.exec_prepared0("census_record", replica, counts);
  }
}

void PgStreamCensusRepository::forget_stale(std::chrono::seconds stale) {
  tx_.exec_prepared0("census_forget_stale", static_cast<long long>(stale.count()));
}

}  // namespace calndro::events
