#pragma once

#include <pqxx/pqxx>

#include "events/pg_statements.h"
#include "events/stores.h"

namespace calndro::events {

// LogSealRepository on PostgreSQL: the seq/prev/hash columns of
// events.log_entries and events.log_heads (migration 0012), through the
// statements prepare_log_seal_statements() registers on every pooled
// connection. Every function runs in the caller's transaction.
class PgLogSealRepository final : public LogSealRepository, private PgStatements {
 public:
  using PgStatements::PgStatements;

  std::vector<std::int64_t> events_to_seal(int limit) override;
  void add_head_rows(const std::vector<std::int64_t>& events) override;
  std::vector<ChainTip> lock_heads(const std::vector<std::int64_t>& events) override;
  std::vector<UnsealedEntry> unsealed_entries(const std::vector<std::int64_t>& events, int limit) override;
  void seal(const std::vector<std::pair<std::int64_t, ChainLink>>& links) override;
  void move_heads(const std::vector<audit::LogHead>& heads, const std::string& key_id) override;
};

void prepare_log_seal_statements(pqxx::connection& connection);

}  // namespace calndro::events
