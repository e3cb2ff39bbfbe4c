#pragma once

#include <pqxx/pqxx>

#include "events/pg_statements.h"
#include "events/stores.h"

namespace calndro::events {

// DeadlineRepository on PostgreSQL: the deadline_mail_due_at, reminded_for
// and summarized_for columns of events.events (migration 0011), through the
// statements prepare_deadline_statements() registers on every pooled
// connection. Every function runs in the caller's transaction.
class PgDeadlineRepository final : public DeadlineRepository, private PgStatements {
 public:
  using PgStatements::PgStatements;

  std::vector<std::int64_t> claim_due_deadlines(Instant now, int limit) override;
  void settle_deadline(std::int64_t id, DeadlineStep step) override;
};

void prepare_deadline_statements(pqxx::connection& connection);

}  // namespace calndro::events
