#include "events/pg_database.h"

#include "common/db/deadline_watch.h"
#include "common/db/pg_unit_of_work.h"
#include "events/deadline_store.h"
#include "events/event_store.h"
#include "events/idempotency_store.h"
#include "events/log_seal_store.h"
#include "events/notify_outbox.h"
#include "events/stream_census_store.h"
#include "events/user_store.h"
#include "events/webhook_store.h"

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
absl::Status PgDatabase::run(const CallContext& call, Atomicity atomicity, Work work) {
  return pool_.run([&](pqxx::connection& connection) {
    const DeadlineWatch watch(call.deadline, [&connection] { connection.cancel_query(); });
    try {
      return run_on(connection, call, atomicity, work);
    } catch (const pqxx::sql_error& error) {
      if (!watch.fired() || !cancelled(error)) {
        throw;
      }
      throw CallAbandoned(absl::DeadlineExceededError(
          "The call's deadline passed while it waited for the database; its change was rolled back."));
    }
  });
}

absl::Status PgDatabase::run_on(pqxx::connection& connection, const CallContext& call, Atomicity atomicity,
                                Work work) {
  return run_in_transaction(connection, call, atomicity, [&](pqxx::transaction_base& tx) {
    PgEventRepository events(tx, atomicity, call);
    PgUserRepository users(tx, atomicity, call);
    PgNotificationOutbox outbox(tx, atomicity, call);
    PgIdempotencyStore idempotency(tx, atomicity, call);
    PgDeadlineRepository deadlines(tx, atomicity, call);
    PgLogSealRepository log_seals(tx, atomicity, call);
    PgWebhookRepository webhooks(tx, atomicity, call);
    PgStreamCensusRepository stream_census(tx, atomicity, call);
    Repositories repositories{events,    users,     outbox,   idempotency,
                              deadlines, log_seals, webhooks, stream_census};
    return work(repositories);
  });
}

void PgDatabase::prepare(pqxx::connection& connection) {
  prepare_user_statements(connection);
  prepare_event_statements(connection);
  prepare_outbox_statements(connection);
  prepare_idempotency_statements(connection);
  prepare_deadline_statements(connection);
  prepare_log_seal_statements(connection);
  prepare_webhook_statements(connection);
  prepare_stream_census_statements(connection);
}

}  // namespace calndro::events
