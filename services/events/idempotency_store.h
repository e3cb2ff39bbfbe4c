#pragma once

#include <pqxx/pqxx>

#include "events/pg_statements.h"
#include "events/stores.h"

namespace calndro::events {

// IdempotencyStore on PostgreSQL: events.idempotency_records, through the
// statements prepare_idempotency_statements() registers on every pooled
// connection. Every function runs in the caller's transaction.
class PgIdempotencyStore final : public IdempotencyStore, private PgStatements {
 public:
  using PgStatements::PgStatements;

  std::optional<IdempotencyRecord> claim(const std::string& caller, const std::string& key,
                                         const std::string& request_hash, Instant now,
                                         Instant expired_before) override;
  void complete(const std::string& caller, const std::string& key, const std::string& response) override;
  void release(const std::string& caller, const std::string& key) override;
  std::int64_t purge_idempotency_records(Instant before) override;
};

void prepare_idempotency_statements(pqxx::connection& connection);

}  // namespace calndro::events
