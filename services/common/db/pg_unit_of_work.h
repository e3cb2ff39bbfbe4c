#pragma once

#include <pqxx/pqxx>

#include "absl/status/status.h"
#include "common/db/unit_of_work.h"

// The PostgreSQL side of a unit of work, once for both services: the pqxx
// transaction an Atomicity names, and the one rule for COMMIT. Each
// service's PgDatabase wraps it in what is its own: the event service's
// DeadlineWatch, the notification service's retries on stale connections.
namespace calndro {

namespace pg_unit_of_work_internal {

template <typename PqxxTransaction, typename Work>
absl::Status run_and_commit(pqxx::connection& connection, const CallContext& call, Atomicity atomicity,
                            Work& work) {
  PqxxTransaction tx(connection);
  absl::Status status = work(static_cast<pqxx::transaction_base&>(tx));
  if (status.ok() && atomicity == Atomicity::kTransaction) {
    // Last moment to refuse: the caller gone, the transaction rolls back.
    status = call.still_wanted();
  }
  if (status.ok()) {
    tx.commit();  // a nontransaction's sends nothing
  }
  return status;
}

}  // namespace pg_unit_of_work_internal

// Opens on `connection` the transaction `atomicity` names (pqxx::work,
// read_transaction or nontransaction), runs `work(pqxx::transaction_base&)
// -> absl::Status` in it, and commits only when `work` returned OK and, for
// a read-write transaction, `call` is still wanted; answers that status.
template <typename Work>
absl::Status run_in_transaction(pqxx::connection& connection, const CallContext& call, Atomicity atomicity,
                                Work&& work) {
  using pg_unit_of_work_internal::run_and_commit;
  switch (atomicity) {
    case Atomicity::kPerStatement:
      return run_and_commit<pqxx::nontransaction>(connection, call, atomicity, work);
    case Atomicity::kReadOnly:
      return run_and_commit<pqxx::read_transaction>(connection, call, atomicity, work);
    case Atomicity::kTransaction:
      break;
  }
  return run_and_commit<pqxx::work>(connection, call, atomicity, work);
}

}  // namespace calndro
