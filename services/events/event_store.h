#pragma once

#include <pqxx/pqxx>

#include "events/stores.h"

namespace calndro::events {

// EventRepository on PostgreSQL: events.events, event_parties and
// log_entries, through the statements prepare_event_statements() registers on
// every pooled connection. Every function runs in the caller's transaction.
class PgEventRepository final : public EventRepository {
 public:
  // `atomicity`: kPerStatement when `tx` commits each statement on its own.
  PgEventRepository(pqxx::transaction_base& tx, Atomicity atomicity, const CallContext& call)
      : tx_(tx), per_statement_(atomicity == Atomicity::kPerStatement), call_(call) {}

  std::optional<EventRecord> load(std::int64_t id, RowLock lock) override;
  std::optional<std::int64_t> create_logged(const EventRecord& event, std::int64_t created_by, Instant now,
                                            const std::string& effector,
                                            const nlohmann::json& log_data) override;
  std::optional<EventRecord> update_logged(std::int64_t id, const EventChange& change, Instant now,
                                           const std::string& effector,
                                           const nlohmann::json& log_data) override;
  EventRecord set_agreed_slot(std::int64_t id, const std::optional<Slot>& slot) override;
  void mark_deleted(std::int64_t id, Instant now) override;
  Page<EventRecord> list_all(std::int64_t after, int limit) override;
  Page<EventRecord> list_for_user(std::int64_t user_id, std::int64_t after, int limit) override;
  void append_log(std::int64_t event_id, Instant when, Occurrence occurrence, const std::string& effector,
                  const std::vector<Slot>& slots, const nlohmann::json& data) override;
  Page<LogEntryRecord> read_log(std::int64_t event_id, std::int64_t after, int limit) override;

 private:
  pqxx::transaction_base& tx_;
  const bool per_statement_;
  const CallContext& call_;
};

void prepare_event_statements(pqxx::connection& connection);

// Runs `write`, a statement that changes something. With each statement
// committing on its own, a connection that breaks during it leaves the
// change in doubt: that is not the "nothing happened" on which the pool
// runs the work again.
template <typename Write>
auto written_once(bool per_statement, const CallContext& call, Write&& write) -> decltype(write()) {
  if (!per_statement) {
    return write();
  }
  // Nothing rolls this back: a call past its deadline is refused before it.
  throw_if_past_deadline(call);
  try {
    return write();
  } catch (const pqxx::broken_connection& error) {
    throw pqxx::in_doubt_error(error.what());
  }
}

}  // namespace calndro::events
