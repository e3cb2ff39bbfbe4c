#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "common/time_slot.h"

namespace calndro::events {

struct EventRecord {
  std::int64_t id = 0;
  std::string title;
  std::vector<std::string> parties;  // canonical emails, in order of first mention
  std::vector<Slot> slots;           // canonical set
  bool deleted = false;

  bool has_party(const std::string& email) const;
};

enum class Occurrence { Update, Notify, View };

struct LogEntryRecord {
  std::int64_t id = 0;
  Instant when;
  Occurrence occurrence = Occurrence::Update;
  std::string effector;
  std::vector<Slot> slots;
  nlohmann::json data;
};

template <typename T>
struct Page {
  std::vector<T> items;
  // The id to continue after; nullopt on the last page.
  std::optional<std::int64_t> next_after;
};

// SQL on events.events, event_parties and log_entries. Every function runs
// in the caller's transaction: a change and its log entry commit together
// or not at all (most are one statement already).
class EventStore {
 public:
  static void prepare(pqxx::connection& connection);

  // Includes deleted events (deleted = true); nullopt when no such id.
  // `lock` takes a row lock, so concurrent changes to one event serialise.
  static std::optional<EventRecord> load(pqxx::transaction_base& tx, std::int64_t id, bool lock);

  // Writes the event (title, parties, slots), its party rows and its
  // creation log entry (UPDATE, with the event's slots) in one statement;
  // returns the new id. Parties must already exist as users
  // (UserStore::ensure_users); throws pqxx::not_null_violation, having
  // written nothing, when one does not.
  static std::int64_t create_logged(pqxx::transaction_base& tx, const EventRecord& event,
                                    std::int64_t created_by, Instant now, const std::string& effector,
                                    const nlohmann::json& log_data);
  // Sets the title and/or the slots (those given) of a live event and logs
  // the change (UPDATE) in one statement; returns the event as changed, or
  // nullopt when there is no such live event.
  static std::optional<EventRecord> update_logged(pqxx::transaction_base& tx, std::int64_t id,
                                                  const std::optional<std::string>& title,
                                                  const std::optional<std::vector<Slot>>& slots, Instant now,
                                                  const std::string& effector,
                                                  const nlohmann::json& log_data);
  static void mark_deleted(pqxx::transaction_base& tx, std::int64_t id, Instant now);

  // Live events, ordered by id, after `after`, at most `limit`.
  static Page<EventRecord> list_all(pqxx::transaction_base& tx, std::int64_t after, int limit);
  static Page<EventRecord> list_for_user(pqxx::transaction_base& tx, std::int64_t user_id, std::int64_t after,
                                         int limit);

  static void append_log(pqxx::transaction_base& tx, std::int64_t event_id, Instant when,
                         Occurrence occurrence, const std::string& effector, const std::vector<Slot>& slots,
                         const nlohmann::json& data);
  // When the NOTIFY entries `effector` wrote for the event after `since`,
  // oldest first (one per mail).
  static std::vector<Instant> notifications_since(pqxx::transaction_base& tx, std::int64_t event_id,
                                                  const std::string& effector, Instant since);
  static Page<LogEntryRecord> read_log(pqxx::transaction_base& tx, std::int64_t event_id, std::int64_t after,
                                       int limit);
};

}  // namespace calndro::events
