#pragma once

#include "common/db/db_pool.h"
#include "events/stores.h"

namespace calndro::events {

// Database on the pooled PostgreSQL connections: each run leases one
// connection and hands the work repositories over it.
class PgDatabase final : public Database {
 public:
  explicit PgDatabase(DbPool& pool) : pool_(pool) {}

  absl::Status run(const CallContext& call, Atomicity atomicity, Work work) override;

  // Registers the statements of both repositories on a new connection.
  static void prepare(pqxx::connection& connection);

 private:
  static absl::Status run_on(pqxx::connection& connection, const CallContext& call, Atomicity atomicity,
                             Work work);

  DbPool& pool_;
};

}  // namespace calndro::events
