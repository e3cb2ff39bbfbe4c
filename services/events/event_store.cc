#include "events/event_store.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace calndro::events {
namespace {

// Slots travel to and from SQL as JSON [[begin_epoch_us, duration_us], ...]:
// exact integers, one parameter, no array-literal escaping.
nlohmann::json slots_to_json(const std::vector<Slot>& slots) {
  nlohmann::json out = nlohmann::json::array();
  for (const Slot& slot : slots) {
    out.push_back({slot.begin.time_since_epoch().count(), slot.duration.count()});
  }
  return out;
}

std::vector<Slot> slots_from_json(const nlohmann::json& in) {
  std::vector<Slot> slots;
  for (const auto& pair : in) {
    slots.push_back({Instant(Micros(pair.at(0).get<long long>())), Micros(pair.at(1).get<long long>())});
  }
  return slots;
}

// The columns every event query selects, in this order. Parties and slots
// are JSON copies on the event row (migration 0002): reading an event or a
// page of them aggregates nothing.
constexpr const char* kEventColumns =
    "e.id, e.title, e.deleted_at IS NOT NULL, e.parties, e.slots, e.version, e.creator, e.agreed_slot, "
    "e.calendar_sequence, e.answers, (extract(epoch FROM e.respond_by) * 1000000)::bigint, "
    "e.remind_before_us, "
    "e.hide_answers";

// Answers travel as the `answers` column holds them (migration 0010):
// {"party": [[begin_epoch_us, duration_us, "yes"|"maybe"|"no"], ...], ...}.
nlohmann::json answers_to_json(const Answers& answers) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [party, row] : answers) {
    nlohmann::json given = nlohmann::json::array();
    for (const SlotAnswer& answer : row) {
      given.push_back({answer.slot.begin.time_since_epoch().count(), answer.slot.duration.count(),
                       answer_word(answer.answer)});
    }
    out[party] = std::move(given);
  }
  return out;
}

Answers answers_from_json(const nlohmann::json& in) {
  Answers answers;
  for (const auto& [party, row] : in.items()) {
    std::vector<SlotAnswer>& given = answers[party];
    for (const auto& triple : row) {
      const auto answer = answer_from_word(triple.at(2).get<std::string>());
      if (!answer) {
        throw std::runtime_error("events.answers holds an answer that is not yes, maybe or no");
      }
      given.push_back(
          {{Instant(Micros(triple.at(0).get<long long>())), Micros(triple.at(1).get<long long>())}, *answer});
    }
  }
  return answers;
}

// The deadline as a timestamptz literal: exact to the microsecond at any
// date (an epoch offset in microseconds would pass through a float8).
std::optional<std::string> respond_by_text(const std::optional<Instant>& respond_by) {
  if (!respond_by) {
    return std::nullopt;
  }
  return format_instant(*respond_by);
}

std::optional<Slot> agreed_slot_from(const pqxx::field& field) {
  if (field.is_null()) {
    return std::nullopt;
  }
  const auto pair = nlohmann::json::parse(field.c_str());
  return Slot{Instant(Micros(pair.at(0).get<long long>())), Micros(pair.at(1).get<long long>())};
}

EventRecord read_event(const pqxx::row& row) {
  EventRecord event;
  event.id = row[0].as<std::int64_t>();
  event.title = row[1].as<std::string>();
  event.deleted = row[2].as<bool>();
  event.parties = nlohmann::json::parse(row[3].c_str()).get<std::vector<std::string>>();
  event.slots = slots_from_json(nlohmann::json::parse(row[4].c_str()));
  event.version = row[5].as<std::int64_t>();
  event.creator = row[6].as<std::string>();
  event.agreed_slot = agreed_slot_from(row[7]);
  event.calendar_sequence = row[8].as<std::int64_t>();
  event.answers = answers_from_json(nlohmann::json::parse(row[9].c_str()));
  if (!row[10].is_null()) {
    event.respond_by = Instant(Micros(row[10].as<long long>()));
  }
  event.remind_before = Micros(row[11].as<long long>());
  event.hide_answers = row[12].as<bool>();
  return event;
}

template <typename T, typename Read>
Page<T> read_page(const pqxx::result& result, int limit, Read read) {
  Page<T> page;
  for (const auto& row : result) {
    if (static_cast<int>(page.items.size()) == limit) {
      page.next_after = page.items.back().id;
      break;
    }
    page.items.push_back(read(row));
  }
  return page;
}

long long micros_of(Instant instant) {
  return instant.time_since_epoch().count();
}

using Statements = std::vector<std::pair<const char*, std::string>>;

// A log entry at $at (epoch microseconds) by $effector with the event's
// slots after the action and $data: the tail of every "..._logged" statement.
std::string log_values(const char* event_id, const char* at, const char* occurrence, const char* effector,
                       const char* slots, const char* data) {
  return std::string(
             "INSERT INTO events.log_entries (event_id, at, occurrence, effector, slots, data) SELECT ") +
         event_id + ", 'epoch'::timestamptz + " + at + " * interval '1 microsecond', " + occurrence + ", " +
         effector + ", " + slots + "::jsonb, " + data + "::jsonb";
}

}  // namespace

const char* event_columns() {
  return kEventColumns;
}

EventRecord event_from_row(const pqxx::row& row) {
  return read_event(row);
}

namespace {

// The statements that read events.
Statements event_reads() {
  const std::string columns = kEventColumns;
  return {
      {"event_by_id", "SELECT " + columns + " FROM events.events e WHERE e.id = $1"},
      // NO KEY UPDATE: serialises changes to the event, while log entries
      // added for it meanwhile (their foreign-key check takes a key-share
      // lock on the event row: a GET's VIEW entry) need not wait.
      {"event_by_id_locked",
       "SELECT " + columns + " FROM events.events e WHERE e.id = $1 FOR NO KEY UPDATE OF e"},
      {"events_all", "SELECT " + columns +
                         " FROM events.events e WHERE e.deleted_at IS NULL AND e.id > $1 "
                         "ORDER BY e.id LIMIT $2"},
      // Driven by the (user_id, event_id) index, one events row looked up
      // per party row: cost follows the page size, not the number of events.
      // As a plain join the planner chose a merge join that walked the
      // events' primary key from the start (10,000 rows read for a page of
      // 100 when the user is party to every 100th event); OFFSET 0 keeps the
      // lookup a nested loop.
      {"events_for_user",
       "SELECT " + columns +
           " FROM events.event_parties mine CROSS JOIN LATERAL "
           "(SELECT * FROM events.events e WHERE e.id = mine.event_id AND e.deleted_at IS NULL OFFSET 0) e "
           "WHERE mine.user_id = $1 AND mine.event_id > $2 ORDER BY mine.event_id LIMIT $3"},
  };
}

// The statements that change events, each with its log entry.
Statements event_writes() {
  return {
      // The event, its party rows and its creation log entry in one
      // statement: one round trip on the busiest write path
      // (docs/PERFORMANCE.md). The parties' users exist already
      // (ensure_users); the LEFT JOIN makes a party without a user row a NULL
      // user_id, so the whole statement fails (not_null_violation) rather
      // than leave the party out.
      {"event_create_logged",
       "WITH e AS (INSERT INTO events.events (title, created_by, creator, created_at, parties, slots, "
       "  respond_by, remind_before_us, hide_answers) "
       "  VALUES ($1, $2, $6, 'epoch'::timestamptz + $3 * interval '1 microsecond', $4::json, $5::json, "
       "  $8::timestamptz, $9::bigint, $10::boolean) "
       "  RETURNING id), "
       "p AS (INSERT INTO events.event_parties (event_id, user_id, position) "
       "  SELECT e.id, u.id, i.position FROM e, json_array_elements_text($4::json) WITH ORDINALITY "
       "  AS i(email, position) LEFT JOIN events.users u ON u.email = i.email), "
       "l AS (" +
           log_values("e.id", "$3", "'UPDATE'", "$6", "$5", "$7") +
           " FROM e) "
           "SELECT id FROM e"},
      // A new title and/or slot set ($2/$4 say which) of a live event and
      // its log entry, in one statement that returns the event as changed.
      // The UPDATE's row lock orders concurrent changes of one event, and
      // each log entry holds the slots its own change left. $9, when not
      // NULL, is the version the caller expects: PostgreSQL rechecks the
      // WHERE on the row it locked, so a change committed meanwhile makes
      // the statement change nothing. $10: only while open (no agreed slot).
      // A new title of an agreed event is a new invitation: its SEQUENCE grows.
      // New slots keep only the answers to them (answers_within(), planned on
      // each call: only with answers). $11/$13: deadline ($12)/lead ($14) given.
      {"event_update_logged",
       "WITH u AS (UPDATE events.events SET title = CASE WHEN $2 THEN $3 ELSE title END, "
       "  slots = CASE WHEN $4 THEN $5::json ELSE slots END, "
       "  answers = CASE WHEN $4 AND answers::text <> '{}' THEN events.answers_within(answers, $5::json) "
       "  ELSE answers END, "
       "  respond_by = CASE WHEN $11 THEN $12::timestamptz ELSE respond_by END, "
       "  remind_before_us = CASE WHEN $13 THEN $14::bigint ELSE remind_before_us END, "
       "  version = version + 1, "
       "  calendar_sequence = calendar_sequence + CASE WHEN $2 AND agreed_slot IS NOT NULL THEN 1 ELSE 0 END "
       "  WHERE id = $1 AND deleted_at IS NULL AND ($9::bigint IS NULL OR version = $9) "
       "  AND (NOT $10 OR agreed_slot IS NULL) "
       "  RETURNING *), "
       "l AS (" +
           log_values("u.id", "$6", "'UPDATE'", "$7", "u.slots", "$8") +
           " FROM u) "
           "SELECT " +
           std::string(kEventColumns) + " FROM u AS e"},
      {"event_set_agreed_slot",
       "UPDATE events.events e SET agreed_slot = $2::json, version = version + 1, "
       "calendar_sequence = calendar_sequence + 1 WHERE id = $1 AND deleted_at IS NULL RETURNING " +
           std::string(kEventColumns)},
      {"event_mark_deleted",
       "UPDATE events.events SET deleted_at = 'epoch'::timestamptz + $2 * interval '1 microsecond', "
       "version = version + 1, "
       "calendar_sequence = calendar_sequence + CASE WHEN agreed_slot IS NULL THEN 0 ELSE 1 END WHERE id = "
       "$1"},
  };
}

// The statement of an answer: the caller holds the row lock and has checked
// the answers.
Statements answer_writes() {
  return {
      {"event_set_answers_logged",
       "WITH u AS (UPDATE events.events SET answers = $2::json, version = version + 1 "
       "  WHERE id = $1 AND deleted_at IS NULL RETURNING *), "
       "l AS (" +
           log_values("u.id", "$3", "'ANSWER'", "$4", "u.slots", "$5") +
           " FROM u) "
           "SELECT " +
           std::string(kEventColumns) + " FROM u AS e"},
  };
}

// The statements on the audit log alone.
Statements log_statements() {
  return {
      {"log_append", log_values("$1", "$2", "$3", "$4", "$5", "$6")},
      // A page and the signed head in one statement (one snapshot, one round
      // trip): the page's rows (kLogEntryColumns, then four NULLs), then the
      // head's row (nine NULLs, then its seq, hash, signed_at and signature).
      // A UNION ALL only appends (a join or a window over the page cost
      // PostgreSQL a quarter more than two statements, pgbench measured).
      {"log_read", std::string("(SELECT ") + kLogEntryColumns +
                       ", NULL::bigint, NULL::text, NULL::bigint, NULL::text"
                       " FROM events.log_entries WHERE event_id = $1 AND id > $2 ORDER BY id LIMIT $3) "
                       "UNION ALL (SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, seq, hash, "
                       "(extract(epoch FROM signed_at) * 1000000)::bigint, signature "
                       "FROM events.log_heads WHERE event_id = $1 AND seq IS NOT NULL)"},
  };
}

}  // namespace

// The audit log's occurrence names as stored (and as SPEC §5 shows them).
constexpr std::pair<Occurrence, const char*> kOccurrenceNames[] = {{Occurrence::kUpdate, "UPDATE"},
                                                                   {Occurrence::kNotify, "NOTIFY"},
                                                                   {Occurrence::kView, "VIEW"},
                                                                   {Occurrence::kAgree, "AGREE"},
                                                                   {Occurrence::kAnswer, "ANSWER"}};

const char* occurrence_name(Occurrence occurrence) {
  for (const auto& [value, name] : kOccurrenceNames) {
    if (value == occurrence) {
      return name;
    }
  }
  return "UPDATE";
}

namespace {

Occurrence occurrence_from(const std::string& name) {
  for (const auto& [value, known] : kOccurrenceNames) {
    if (name == known) {
      return value;
    }
  }
  return Occurrence::kUpdate;
}

}  // namespace

audit::ChainedEntry chained_entry(std::int64_t event_id, std::int64_t seq, const LogEntryRecord& entry) {
  return {.event_id = event_id,
          .seq = seq,
          .when = entry.when,
          .occurrence = occurrence_name(entry.occurrence),
          .effector = entry.effector,
          .slots = entry.slots,
          .data = entry.data};
}

LogEntryRecord log_entry_from_row(const pqxx::row& row) {
  LogEntryRecord entry;
  entry.id = row[0].as<std::int64_t>();
  entry.when = Instant(Micros(row[1].as<long long>()));
  entry.occurrence = occurrence_from(row[2].as<std::string>());
  entry.effector = row[3].as<std::string>();
  entry.slots = slots_from_json(nlohmann::json::parse(row[4].c_str()));
  entry.data = nlohmann::json::parse(row[5].c_str());
  if (!row[6].is_null()) {
    entry.link = ChainLink{row[6].as<std::int64_t>(), row[7].as<std::string>(), row[8].as<std::string>()};
  }
  return entry;
}

bool EventRecord::has_party(const std::string& email) const {
  return std::find(parties.begin(), parties.end(), email) != parties.end();
}

void prepare_event_statements(pqxx::connection& connection) {
  for (const auto& statements : {event_reads(), event_writes(), answer_writes(), log_statements()}) {
    for (const auto& [name, sql] : statements) {
      connection.prepare(name, sql);
    }
  }
}

std::optional<EventRecord> PgEventRepository::load(std::int64_t id, RowLock lock) {
  const auto result =
      tx_.exec_prepared(lock == RowLock::kForUpdate ? "event_by_id_locked" : "event_by_id", id);
  if (result.empty()) {
    return std::nullopt;
  }
  return read_event(result[0]);
}

std::optional<std::int64_t> PgEventRepository::create_logged(const EventRecord& event,
                                                             std::int64_t created_by, Instant now,
                                                             const std::string& effector,
                                                             const nlohmann::json& log_data) {
  try {
    return written_once([&] {
      return tx_
          .exec_prepared("event_create_logged", event.title, created_by, micros_of(now),
                         nlohmann::json(event.parties).dump(), slots_to_json(event.slots).dump(), effector,
                         log_data.dump(), respond_by_text(event.respond_by),
                         static_cast<long long>(event.remind_before.count()), event.hide_answers)[0][0]
          .as<std::int64_t>();
    });
  } catch (const pqxx::not_null_violation&) {
    return std::nullopt;
  }
}

std::optional<EventRecord> PgEventRepository::update_logged(std::int64_t id, const EventChange& change,
                                                            Instant now, const std::string& effector,
                                                            const nlohmann::json& log_data) {
  const auto& slots = change.slots;
  const auto result = written_once([&] {
    return tx_.exec_prepared("event_update_logged", id, change.title.has_value(), change.title.value_or(""),
                             slots.has_value(), slots ? slots_to_json(*slots).dump() : std::string("[]"),
                             micros_of(now), effector, log_data.dump(), change.expected_version,
                             change.only_while_open, change.respond_by.has_value(),
                             change.respond_by ? respond_by_text(change.respond_by->at) : std::nullopt,
                             change.remind_before.has_value(),
                             static_cast<long long>(change.remind_before.value_or(Micros(0)).count()));
  });
  if (result.empty()) {
    return std::nullopt;
  }
  return read_event(result[0]);
}

EventRecord PgEventRepository::set_agreed_slot(std::int64_t id, const std::optional<Slot>& slot) {
  std::optional<std::string> pair;
  if (slot) {
    pair = nlohmann::json::array({slot->begin.time_since_epoch().count(), slot->duration.count()}).dump();
  }
  const auto result = written_once([&] { return tx_.exec_prepared("event_set_agreed_slot", id, pair); });
  if (result.empty()) {
    throw std::logic_error("set_agreed_slot on an event that is not live (the caller holds its row lock)");
  }
  return read_event(result[0]);
}

EventRecord PgEventRepository::set_answers_logged(std::int64_t id, const Answers& answers, Instant now,
                                                  const std::string& effector,
                                                  const nlohmann::json& log_data) {
  const auto result = written_once([&] {
    return tx_.exec_prepared("event_set_answers_logged", id, answers_to_json(answers).dump(), micros_of(now),
                             effector, log_data.dump());
  });
  if (result.empty()) {
    throw std::logic_error("set_answers_logged on an event that is not live (the caller holds its row lock)");
  }
  return read_event(result[0]);
}

void PgEventRepository::mark_deleted(std::int64_t id, Instant now) {
  written_once([&] { tx_.exec_prepared("event_mark_deleted", id, micros_of(now)); });
}

Page<EventRecord> PgEventRepository::list_all(std::int64_t after, int limit) {
  return read_page<EventRecord>(tx_.exec_prepared("events_all", after, limit + 1), limit, read_event);
}

Page<EventRecord> PgEventRepository::list_for_user(std::int64_t user_id, std::int64_t after, int limit) {
  return read_page<EventRecord>(tx_.exec_prepared("events_for_user", user_id, after, limit + 1), limit,
                                read_event);
}

void PgEventRepository::append_log(std::int64_t event_id, Instant when, Occurrence occurrence,
                                   const std::string& effector, const std::vector<Slot>& slots,
                                   const nlohmann::json& data) {
  written_once([&] {
    tx_.exec_prepared("log_append", event_id, micros_of(when), std::string(occurrence_name(occurrence)),
                      effector, slots_to_json(slots).dump(), data.dump());
  });
}

LogPage PgEventRepository::read_log(std::int64_t event_id, std::int64_t after, int limit) {
  constexpr int kHead = 9;  // the head's columns follow the entry's (see "log_read")
  LogPage page;
  for (const auto& row : tx_.exec_prepared("log_read", event_id, after, limit + 1)) {
    if (!row[0].is_null()) {
      if (static_cast<int>(page.entries.items.size()) == limit) {
        page.entries.next_after = page.entries.items.back().id;
      } else {
        page.entries.items.push_back(log_entry_from_row(row));
      }
    } else {
      page.head = audit::LogHead{.event_id = event_id,
                                 .seq = row[kHead].as<std::int64_t>(),
                                 .hash = row[kHead + 1].as<std::string>(),
                                 .signed_at = Instant(Micros(row[kHead + 2].as<long long>())),
                                 .signature = row[kHead + 3].as<std::string>()};
    }
  }
  return page;
}

}  // namespace calndro::events
