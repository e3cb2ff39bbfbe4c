#include "notify/pg_database.h"

#include "common/db/pg_unit_of_work.h"
#include "notify/db_retry.h"

namespace calndro::notify {

absl::Status PgDatabase::run(const CallContext& call, Atomicity atomicity, Work work) {
  // As in the event service: a write whose caller gave up rolls back.
  auto once = [&](pqxx::connection& connection) {
    return run_in_transaction(connection, call, atomicity, [&](pqxx::transaction_base& tx) {
      PgTransaction handle(tx);
      return work(handle);
    });
  };
  if (policy_ == StaleConnections::kRetryWhileFast) {
    return run_with_fresh_connections(pool_, once);
  }
  return pool_.run(once);
}

}  // namespace calndro::notify
