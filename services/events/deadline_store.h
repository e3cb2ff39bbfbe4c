#pragma once

#include <pqxx/pqxx>

#include "events/stores.h"

namespace calndro::events {

// DeadlineRepository on PostgreSQL: the deadline_mail_due_at, reminded_for
// and summarized_for columns of events.events (migration 0011), through the
// statements prepare_deadline_statements() registers on every pooled
// connection. Every function runs in the caller's transaction.
class PgDeadlineRepository final : public DeadlineRepository {
 public:
  PgDeadlineRepository(pqxx::transaction_base& tx, Atomicity atomicity, const CallContext& call)
      : tx_(tx), per_statement_(atomicity == Atomicity::kPerStatement), call_(call) {}

  std::vector<std::int64_t> claim_due_deadlines(Instant now, int limit) override;
  void settle_deadline(std::int64_t id, DeadlineStep step) override;

 private:
  pqxx::transaction_base& tx_;
  const bool per_statement_;
  const CallContext& call_;
};

void prepare_deadline_statements(pqxx::connection& connection);

}  // namespace calndro::events
