#pragma once

#include <pqxx/pqxx>

#include "events/stores.h"

namespace calndro::events {

// IdempotencyStore on PostgreSQL: events.idempotency_records, through the
// statements prepare_idempotency_statements() registers on every pooled
// connection. Every function runs in the caller's transaction.
class PgIdempotencyStore final : public IdempotencyStore {
 public:
  PgIdempotencyStore(pqxx::transaction_base& tx, Atomicity atomicity, const CallContext& call)
      : tx_(tx), per_statement_(atomicity == Atomicity::kPerStatement), call_(call) {}

  std::optional<IdempotencyRecord> claim(const std::string& caller, const std::string& key,
                                         const std::string& request_hash, Instant now,
                                         Instant expired_before) override;
  void complete(const std::string& caller, const std::string& key, const std::string& response) override;
  void release(const std::string& caller, const std::string& key) override;
  std::int64_t purge_idempotency_records(Instant before) override;

 private:
  pqxx::transaction_base& tx_;
  const bool per_statement_;
  const CallContext& call_;
};

void prepare_idempotency_statements(pqxx::connection& connection);

}  // namespace calndro::events
