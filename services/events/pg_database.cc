#include "events/pg_database.h"

#include "common/rpc_call.h"
#include "events/event_store.h"
#include "events/idempotency_store.h"
#include "events/notify_outbox.h"
#include "events/user_store.h"

namespace calndro::events {

absl::Status PgDatabase::run(Atomicity atomicity, Work work) {
  return pool_.run([&](pqxx::connection& connection) {
    if (atomicity == Atomicity::kPerStatement) {
      pqxx::nontransaction statements(connection);
      PgEventRepository events(statements, /*per_statement=*/true);
      PgUserRepository users(statements, /*per_statement=*/true);
      PgNotificationOutbox outbox(statements, /*per_statement=*/true);
      PgIdempotencyStore idempotency(statements, /*per_statement=*/true);
      Repositories repositories{events, users, outbox, idempotency};
      return work(repositories);
    }
    pqxx::work tx(connection);
    PgEventRepository events(tx, /*per_statement=*/false);
    PgUserRepository users(tx, /*per_statement=*/false);
    PgNotificationOutbox outbox(tx, /*per_statement=*/false);
    PgIdempotencyStore idempotency(tx, /*per_statement=*/false);
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
  });
}

void PgDatabase::prepare(pqxx::connection& connection) {
  prepare_user_statements(connection);
  prepare_event_statements(connection);
  prepare_outbox_statements(connection);
  prepare_idempotency_statements(connection);
}

}  // namespace calndro::events
