#include "events/pg_database.h"

#include "common/db/deadline_watch.h"
#include "common/rpc/rpc_call.h"
#include "events/event_store.h"
#include "events/idempotency_store.h"
#include "events/notify_outbox.h"
#include "events/user_store.h"

namespace calndro::events {

namespace {

// A statement PostgreSQL cancelled (SQLSTATE 57014).
bool cancelled(const pqxx::sql_error& error) {
  return error.sqlstate() == "57014";
}

}  // namespace

// The work of an RPC runs under a watch of the call's deadline: when the
// deadline passes while a statement still runs (a row lock held elsewhere),
// PostgreSQL is asked to cancel it. A cancelled statement is rolled back, and
// with it the transaction it belongs to, so a write never lands after its
// caller was told it failed; the call answers DEADLINE_EXCEEDED. The watch
// costs no round trip: nothing is sent unless the deadline passes.
absl::Status PgDatabase::run(Atomicity atomicity, Work work) {
  return pool_.run([&](pqxx::connection& connection) {
    const DeadlineWatch watch(call_deadline(), [&connection] { connection.cancel_query(); });
    try {
      return run_on(connection, atomicity, work);
    } catch (const pqxx::sql_error& error) {
      if (!watch.fired() || !cancelled(error)) {
        throw;
      }
      throw CallAbandoned(absl::DeadlineExceededError(
          "The call's deadline passed while it waited for the database; its change was rolled back."));
    }
  });
}

absl::Status PgDatabase::run_on(pqxx::connection& connection, Atomicity atomicity, Work work) {
  if (atomicity == Atomicity::kPerStatement) {
    pqxx::nontransaction statements(connection);
    PgEventRepository events(statements, Atomicity::kPerStatement);
    PgUserRepository users(statements, Atomicity::kPerStatement);
    PgNotificationOutbox outbox(statements, Atomicity::kPerStatement);
    PgIdempotencyStore idempotency(statements, Atomicity::kPerStatement);
    Repositories repositories{events, users, outbox, idempotency};
    return work(repositories);
  }
  pqxx::work tx(connection);
  PgEventRepository events(tx, Atomicity::kTransaction);
  PgUserRepository users(tx, Atomicity::kTransaction);
  PgNotificationOutbox outbox(tx, Atomicity::kTransaction);
  PgIdempotencyStore idempotency(tx, Atomicity::kTransaction);
  Repositories repositories{events, users, outbox, idempotency};
  absl::Status status = work(repositories);
  if (status.ok()) {
    // Last moment to refuse: the caller gone, the transaction rolls back.
    status = call_still_wanted();
  }
  if (status.ok()) {
    tx.commit();
  }
  return status;
}

void PgDatabase::prepare(pqxx::connection& connection) {
  prepare_user_statements(connection);
  prepare_event_statements(connection);
  prepare_outbox_statements(connection);
  prepare_idempotency_statements(connection);
}

}  // namespace calndro::events
