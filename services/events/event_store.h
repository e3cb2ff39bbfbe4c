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

// SQL on events.events, event_parties, slots and log_entries. Every function
// works inside the caller's transaction: an action and its log entry commit
// together or not at all.
class EventStore {
 public:
  static void prepare(pqxx::connection& connection);

  // Includes deleted events (deleted = true); nullopt when no such id.
  // `lock` takes a row lock, so concurrent changes to one event serialise.
  static std::optional<EventRecord> load(pqxx::transaction_base& tx, std::int64_t id, bool lock);

  // Parties must already exist as users (UserStore::ensure_users).
  static std::int64_t create(pqxx::transaction_base& tx, const std::string& title, std::int64_t created_by,
                             const std::vector<std::string>& parties, const std::vector<Slot>& slots, Instant now);
  static void set_title(pqxx::transaction_base& tx, std::int64_t id, const std::string& title);
  static void replace_slots(pqxx::transaction_base& tx, std::int64_t id, const std::vector<Slot>& slots);
  static void mark_deleted(pqxx::transaction_base& tx, std::int64_t id, Instant now);

  // Live events, ordered by id, after `after`, at most `limit`.
  static Page<EventRecord> list_all(pqxx::transaction_base& tx, std::int64_t after, int limit);
  static Page<EventRecord> list_for_user(pqxx::transaction_base& tx, std::int64_t user_id, std::int64_t after,
                                         int limit);

  static void append_log(pqxx::transaction_base& tx, std::int64_t event_id, Instant when, Occurrence occurrence,
                         const std::string& effector, const std::vector<Slot>& slots, const nlohmann::json& data);
  static Page<LogEntryRecord> read_log(pqxx::transaction_base& tx, std::int64_t event_id, std::int64_t after,
                                       int limit);
};

}  // namespace calndro::events
