#include "notify/pg_database.h"

#include "notify/db_retry.h"

namespace calndro::notify {

template <typename PqxxTransaction>
absl::Status PgDatabase::run_in(const CallContext& call, Atomicity atomicity, Work work) {
  auto once = [&](pqxx::connection& connection) {
    PqxxTransaction tx(connection);
    PgTransaction handle(tx);
    absl::Status status = work(handle);
    if (status.ok() && atomicity == Atomicity::kTransaction) {
      // As in the event service: a write whose caller gave up rolls back.
      status = call.still_wanted();
    }
    if (status.ok()) {
      tx.commit();
    }
    return status;
  };
  if (policy_ == StaleConnections::kRetryWhileFast) {
    return run_with_fresh_connections(pool_, once);
  }
  return pool_.run(once);
}

absl::Status PgDatabase::run(const CallContext& call, Atomicity atomicity, Work work) {
  switch (atomicity) {
    case Atomicity::kReadOnly:
      return run_in<pqxx::read_transaction>(call, atomicity, work);
    case Atomicity::kPerStatement:
      return run_in<pqxx::nontransaction>(call, atomicity, work);
    case Atomicity::kTransaction:
      break;
  }
  return run_in<pqxx::work>(call, atomicity, work);
}

}  // namespace calndro::notify
