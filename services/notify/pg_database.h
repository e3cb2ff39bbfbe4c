#pragma once

#include <pqxx/pqxx>

#include "common/db/db_pool.h"
#include "notify/stores.h"

// Database over a DbPool: one pooled connection per transaction.
namespace calndro::notify {

class PgTransaction final : public Transaction {
 public:
  explicit PgTransaction(pqxx::transaction_base& tx) : tx_(tx) {}
  pqxx::transaction_base& tx() { return tx_; }

 private:
  pqxx::transaction_base& tx_;
};

// The pqxx transaction behind a Transaction that a PgDatabase opened.
inline pqxx::transaction_base& pg(Transaction& tx) {
  return static_cast<PgTransaction&>(tx).tx();
}

class PgDatabase final : public Database {
 public:
  enum class StaleConnections {
    kRetryOnce,      // DbPool::run: for the background jobs, which try again on their own
    kRetryWhileFast  // run_with_fresh_connections (db_retry.h): for the RPCs
  };
  PgDatabase(DbPool& pool, StaleConnections policy) : pool_(pool), policy_(policy) {}

  absl::Status run(const CallContext& call, Atomicity atomicity, Work work) override;

 private:
  DbPool& pool_;
  const StaleConnections policy_;
};

}  // namespace calndro::notify
