#pragma once

#include <pqxx/pqxx>
#include <utility>

#include "events/stores.h"

namespace calndro::events {

// Runs `write`, a statement that changes something. With each statement
// committing on its own, a connection that breaks during it leaves the
// change in doubt: that is not the "nothing happened" on which the pool
// runs the work again.
template <typename Write>
auto written_once(bool per_statement, const CallContext& call, Write&& write) -> decltype(write()) {
  if (!per_statement) {
    return write();
  }
  // Nothing rolls this back: a call past its deadline is refused before it.
  throw_if_past_deadline(call);
  try {
    return write();
  } catch (const pqxx::broken_connection& error) {
    throw pqxx::in_doubt_error(error.what());
  }
}

// What every PostgreSQL store of the event service holds: the caller's
// transaction, whether it commits each statement on its own, and the call
// it serves (its deadline). Each store's functions run in that transaction.
class PgStatements {
 public:
  // `atomicity`: kPerStatement when `tx` commits each statement on its own.
  PgStatements(pqxx::transaction_base& tx, Atomicity atomicity, const CallContext& call)
      : tx_(tx), per_statement_(atomicity == Atomicity::kPerStatement), call_(call) {}

 protected:
  // written_once() above, for this store's transaction and call.
  template <typename Write>
  auto written_once(Write&& write) -> decltype(write()) {
    return events::written_once(per_statement_, call_, std::forward<Write>(write));
  }

  pqxx::transaction_base& tx_;

 private:
  const bool per_statement_;
  const CallContext& call_;
};

}  // namespace calndro::events
