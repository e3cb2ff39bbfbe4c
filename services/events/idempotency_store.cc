#include "events/idempotency_store.h"

#include <stdexcept>

#include "events/event_store.h"

namespace calndro::events {
namespace {

long long micros(Instant instant) {
  return instant.time_since_epoch().count();
}

std::string at(int parameter) {
  return "'epoch'::timestamptz + $" + std::to_string(parameter) + " * interval '1 microsecond'";
}

}  // namespace

void prepare_idempotency_statements(pqxx::connection& connection) {
  // The unique key is the lock: an INSERT that meets a claim another
  // transaction has not committed yet waits for it. A record past the window
  // is taken over as if it were not there (and locked, as a conflicting row
  // always is, until this transaction ends).
  connection.prepare("idempotency_claim",
                     "INSERT INTO events.idempotency_records AS r (caller, key, request_hash, created_at) "
                     "VALUES ($1, $2, $3, " +
                         at(4) +
                         ") ON CONFLICT (caller, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, "
                         "created_at = EXCLUDED.created_at, response = NULL WHERE r.created_at < " +
                         at(5) + " RETURNING 1");
  connection.prepare("idempotency_record",
                     "SELECT request_hash, response, (extract(epoch FROM created_at) * 1000000)::bigint "
                     "FROM events.idempotency_records WHERE caller = $1 AND key = $2");
  connection.prepare("idempotency_complete",
                     "UPDATE events.idempotency_records SET response = $3 WHERE caller = $1 AND key = $2");
  connection.prepare("idempotency_release",
                     "DELETE FROM events.idempotency_records WHERE caller = $1 AND key = $2");
  connection.prepare("idempotency_purge",
                     "DELETE FROM events.idempotency_records WHERE created_at < " + at(1));
}

std::optional<IdempotencyRecord> PgIdempotencyStore::claim(const std::string& caller, const std::string& key,
                                                           const std::string& request_hash, Instant now,
                                                           Instant expired_before) {
  const auto claimed = written_once(per_statement_, call_, [&] {
    return tx_.exec_prepared("idempotency_claim", caller, key, request_hash, micros(now),
                             micros(expired_before));
  });
  if (!claimed.empty()) {
    return std::nullopt;
  }
  // The conflicting record has committed (the INSERT waited for it), so
  // this statement's snapshot sees it.
  const auto rows = tx_.exec_prepared("idempotency_record", caller, key);
  if (rows.empty() || rows[0][1].is_null()) {
    throw std::logic_error("an idempotency record without an answer was committed");
  }
  IdempotencyRecord record;
  record.request_hash = rows[0][0].as<std::string>();
  record.response = pqxx::binarystring(rows[0][1]).str();
  record.created_at = Instant(Micros(rows[0][2].as<long long>()));
  return record;
}

void PgIdempotencyStore::complete(const std::string& caller, const std::string& key,
                                  const std::string& response) {
  written_once(per_statement_, call_,
               [&] { tx_.exec_prepared("idempotency_complete", caller, key, pqxx::binarystring(response)); });
}

void PgIdempotencyStore::release(const std::string& caller, const std::string& key) {
  written_once(per_statement_, call_, [&] { tx_.exec_prepared("idempotency_release", caller, key); });
}

std::int64_t PgIdempotencyStore::purge_idempotency_records(Instant before) {
  const auto result = written_once(per_statement_, call_,
                                   [&] { return tx_.exec_prepared("idempotency_purge", micros(before)); });
  return static_cast<std::int64_t>(result.affected_rows());
}

}  // namespace calndro::events
