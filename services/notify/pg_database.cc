#include "notify/pg_database.h"

#include "notify/db_retry.h"

namespace calndro::notify {

template <typename PqxxTransaction>
void PgDatabase::run(absl::FunctionRef<void(Transaction&)> work) {
  auto once = [&work](pqxx::connection& connection) {
    PqxxTransaction tx(connection);
    PgTransaction handle(tx);
    work(handle);
    tx.commit();
  };
  if (policy_ == StaleConnections::kRetryWhileFast) {
    run_with_fresh_connections(pool_, once);
  } else {
    pool_.run(once);
  }
}

void PgDatabase::write(absl::FunctionRef<void(Transaction&)> work) {
  run<pqxx::work>(work);
}

void PgDatabase::read(absl::FunctionRef<void(Transaction&)> work) {
  run<pqxx::read_transaction>(work);
}

void PgDatabase::single(absl::FunctionRef<void(Transaction&)> work) {
  run<pqxx::nontransaction>(work);
}

}  // namespace calndro::notify
