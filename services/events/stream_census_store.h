#pragma once

#include <pqxx/pqxx>

#include "events/pg_statements.h"
#include "events/stores.h"

namespace calndro::events {

// StreamCensusRepository on PostgreSQL: events.stream_census (migration
// 0015), through the statements prepare_stream_census_statements()
// registers on every pooled connection.
class PgStreamCensusRepository final : public StreamCensusRepository, private PgStatements {
 public:
  using PgStatements::PgStatements;

  void lock_caller(const std::string& caller_key) override;
  std::int64_t open_elsewhere(const std::string& replica, const std::string& caller_key,
                              std::chrono::seconds fresh) override;
  void record(const std::string& replica, const std::map<std::string, std::size_t>& open,
              Scope scope) override;
  void forget_stale(std::chrono::seconds stale) override;
};

void prepare_stream_census_statements(pqxx::connection& connection);

}  // namespace calndro::events
