#pragma once

#include <pqxx/pqxx>

#include "events/pg_statements.h"
#include "events/stores.h"

namespace calndro::events {

// EventRepository on PostgreSQL: events.events, event_parties and
// log_entries, through the statements prepare_event_statements() registers on
// every pooled connection. Every function runs in the caller's transaction.
class PgEventRepository final : public EventRepository, private PgStatements {
 public:
  using PgStatements::PgStatements;

  std::optional<EventRecord> load(std::int64_t id, RowLock lock) override;
  std::optional<std::int64_t> create_logged(const EventRecord& event, std::int64_t created_by, Instant now,
                                            const std::string& effector,
                                            const nlohmann::json& log_data) override;
  std::optional<EventRecord> update_logged(std::int64_t id, const EventChange& change, Instant now,
                                           const std::string& effector,
                                           const nlohmann::json& log_data) override;
  EventRecord set_agreed_slot(std::int64_t id, const std::optional<Slot>& slot) override;
  EventRecord set_answers_logged(std::int64_t id, const Answers& answers, Instant now,
                                 const std::string& effector, const nlohmann::json& log_data) override;
  void mark_deleted(std::int64_t id, Instant now) override;
  Page<EventRecord> list_all(std::int64_t after, int limit) override;
  Page<EventRecord> list_for_user(std::int64_t user_id, std::int64_t after, int limit) override;
  void append_log(std::int64_t event_id, Instant when, Occurrence occurrence, const std::string& effector,
                  const std::vector<Slot>& slots, const nlohmann::json& data) override;
  LogPage read_log(std::int64_t event_id, std::int64_t after, int limit) override;
};

void prepare_event_statements(pqxx::connection& connection);

// The columns log_entry_from_row() reads, in its order.
inline constexpr const char* kLogEntryColumns =
    "id, (extract(epoch FROM at) * 1000000)::bigint, occurrence, effector, slots, data, seq, prev, hash";
LogEntryRecord log_entry_from_row(const pqxx::row& row);

// The columns event_from_row() reads, in its order, of an events row `e`.
const char* event_columns();
EventRecord event_from_row(const pqxx::row& row);

// "UPDATE", "NOTIFY", ...: an occurrence as stored and shown (SPEC §5).
const char* occurrence_name(Occurrence occurrence);

// What of `entry` its hash covers, at `seq` of event `event_id`'s chain
// (the sealer links it; calndro-admin log verify checks it).
audit::ChainedEntry chained_entry(std::int64_t event_id, std::int64_t seq, const LogEntryRecord& entry);

}  // namespace calndro::events
