#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "common/audit/log_chain.h"
#include "common/db/unit_of_work.h"
#include "common/text/clock.h"
#include "common/text/time_slot.h"
#include "events/answer_tally.h"
#include "events/webhook_repository.h"

// What the event service needs from its database, as small interfaces: the
// service logic takes them in its constructor, PostgreSQL implements them
// (event_store.h, user_store.h, pg_database.h) and the unit tests use
// in-memory fakes.
namespace calndro::events {

// SPEC §9: a reminder a day before the deadline unless the event says otherwise.
inline constexpr Micros kDefaultRemindBefore = std::chrono::hours(24);

struct EventRecord {
  std::int64_t id = 0;
  std::string title;
  std::vector<std::string> parties;  // canonical emails, in order of first mention
  std::vector<Slot> slots;           // canonical set
  bool deleted = false;
  // Grows with each change of title, parties, slots or agreement, and with deletion.
  std::int64_t version = 1;
  std::string creator;  // the creator's canonical email
  // Set while agreed (one of `slots`); nullopt while open.
  std::optional<Slot> agreed_slot;
  // SEQUENCE of the last invitation or cancellation mailed; 0 before any.
  std::int64_t calendar_sequence = 0;
  // The parties' answers to the current slots (SPEC §9).
  Answers answers;
  // After it only the creator and staff answer; nullopt: no deadline.
  std::optional<Instant> respond_by;
  // How long before `respond_by` the parties that have not answered are reminded.
  Micros remind_before = kDefaultRemindBefore;
  // Parties other than the creator (and staff) see only their own answers.
  bool hide_answers = false;

  bool has_party(const std::string& email) const;
};

enum class Occurrence { kUpdate, kNotify, kView, kAgree, kAnswer };

// A new deadline for answers, or none (`at` empty: cleared).
struct RespondByChange {
  std::optional<Instant> at;
};

// The title and/or slot set an update asks for; with `expected_version`, only
// if the event still has that version.
struct EventChange {
  std::optional<std::string> title;
  std::optional<std::vector<Slot>> slots;
  std::optional<RespondByChange> respond_by;
  std::optional<Micros> remind_before;
  std::optional<std::int64_t> expected_version;
  // Only while the event is open: a change of an agreed one re-sends the
  // invitation, which a caller without the row lock cannot do atomically.
  bool only_while_open = false;
};

// Where a sealed entry sits in its event's hash chain (SPEC §10).
struct ChainLink {
  std::int64_t seq = 0;
  std::string prev;
  std::string hash;
};

struct LogEntryRecord {
  std::int64_t id = 0;
  Instant when;
  Occurrence occurrence = Occurrence::kUpdate;
  std::string effector;
  std::vector<Slot> slots;
  nlohmann::json data;
  std::optional<ChainLink> link;  // nullopt until sealed
};

template <typename T>
struct Page {
  std::vector<T> items;
  // The id to continue after; nullopt on the last page.
  std::optional<std::int64_t> next_after;
};

// A page of an event's log and the event's signed head (nullopt before its
// first entry is sealed).
struct LogPage {
  Page<LogEntryRecord> entries;
  std::optional<audit::LogHead> head;
};

struct User {
  std::int64_t id = 0;
  std::string email;
  std::optional<std::string> username;
  std::string password_hash;  // empty: no password (a party invited by email)
  bool active = false;
  bool staff = false;
};

// Events, their parties and their audit log. A change and its log entry
// commit together or not at all (most are one statement).
// Whether a read takes the event's row lock, which serialises concurrent
// changes to one event until the transaction ends.
enum class RowLock { kNone, kForUpdate };

class EventRepository {
 public:
  virtual ~EventRepository() = default;

  // Includes deleted events (deleted = true); nullopt when no such id.
  virtual std::optional<EventRecord> load(std::int64_t id, RowLock lock) = 0;
  // Writes the event, its party rows and its creation log entry (UPDATE,
  // with the event's slots); returns the new id, or nullopt, having written
  // nothing, when a party has no user row (UserRepository::ensure_users).
  virtual std::optional<std::int64_t> create_logged(const EventRecord& event, std::int64_t created_by,
                                                    Instant now, const std::string& effector,
                                                    const nlohmann::json& log_data) = 0;
  // Sets the title, the slots, the deadline and/or the reminder's lead
  // (those given) of a live event (new slots keep only the answers to them:
  // answers_within()), raises its version and logs the change (UPDATE);
  // returns the event as changed, or nullopt, having changed nothing, when
  // there is no such live event, it no longer has `change.expected_version`,
  // or `change.only_while_open` and it is agreed. A title change of an
  // agreed event raises its calendar sequence (the caller mails the new
  // invitation).
  virtual std::optional<EventRecord> update_logged(std::int64_t id, const EventChange& change, Instant now,
                                                   const std::string& effector,
                                                   const nlohmann::json& log_data) = 0;
  // Sets or (nullopt) clears the agreed slot of a live event, raises its
  // version and its calendar sequence; returns the event as changed. The
  // caller holds the row lock and logs the change itself.
  virtual EventRecord set_agreed_slot(std::int64_t id, const std::optional<Slot>& slot) = 0;
  // Replaces the answers of a live event, raises its version and logs an
  // ANSWER entry (with the event's slots and `log_data`); returns the event
  // as changed. The caller holds the row lock and has checked the answers
  // against the event's slots.
  virtual EventRecord set_answers_logged(std::int64_t id, const Answers& answers, Instant now,
                                         const std::string& effector, const nlohmann::json& log_data) = 0;
  // Marks the event deleted and raises its version (and, while agreed, its
  // calendar sequence: the deletion mails a cancellation).
  virtual void mark_deleted(std::int64_t id, Instant now) = 0;

  // Live events, ordered by id, after `after`, at most `limit`.
  virtual Page<EventRecord> list_all(std::int64_t after, int limit) = 0;
  virtual Page<EventRecord> list_for_user(std::int64_t user_id, std::int64_t after, int limit) = 0;

  virtual void append_log(std::int64_t event_id, Instant when, Occurrence occurrence,
                          const std::string& effector, const std::vector<Slot>& slots,
                          const nlohmann::json& data) = 0;
  // A page of the event's log with its signed head, read in one snapshot:
  // every entry the head covers is sealed on the page.
  virtual LogPage read_log(std::int64_t event_id, std::int64_t after, int limit) = 0;
};

// The last link of an event's chain as the sealer extends it: seq 0 and
// audit::kGenesisHash before the first entry is sealed.
struct ChainTip {
  std::int64_t event_id = 0;
  std::int64_t seq = 0;
  std::string hash;
};

// An entry not sealed yet, with its event.
struct UnsealedEntry {
  std::int64_t event_id = 0;
  LogEntryRecord entry;
};

// What the sealer (log_sealer.h) reads and writes: the entries still
// without seq and the heads of their events (migration 0012).
class LogSealRepository {
 public:
  virtual ~LogSealRepository() = default;

  // Up to `limit` events with unsealed entries, the longest waiting first.
  virtual std::vector<std::int64_t> events_to_seal(int limit) = 0;
  // Makes sure each of `events` has a head row to lock (seq NULL: no head yet).
  virtual void add_head_rows(const std::vector<std::int64_t>& events) = 0;
  // Locks the head rows of `events` until the transaction ends, skipping
  // those another transaction holds (another replica sealing them), and
  // returns the tips of the locked ones.
  virtual std::vector<ChainTip> lock_heads(const std::vector<std::int64_t>& events) = 0;
  // Up to `limit` unsealed entries of `events`, by event, then by id.
  virtual std::vector<UnsealedEntry> unsealed_entries(const std::vector<std::int64_t>& events, int limit) = 0;
  // Sets seq, prev and hash of each entry (by id); the caller holds the heads.
  virtual void seal(const std::vector<std::pair<std::int64_t, ChainLink>>& links) = 0;
  // Moves each event's head to the given one, signed with the key `key_id`.
  virtual void move_heads(const std::vector<audit::LogHead>& heads, const std::string& key_id) = 0;
};

// Users and their API keys.
class UserRepository {
 public:
  virtual ~UserRepository() = default;

  // By username, or else by email (case-insensitive).
  virtual std::optional<User> find_by_login(const std::string& login) = 0;
  // The user of an API key that has not expired at `now`.
  virtual std::optional<User> find_by_api_token_hash(const std::string& token_hash, Instant now) = 0;
  // Adds a key that expires at `expires` for the user, only while the user
  // is active and still has `stored_hash` as password; false otherwise.
  virtual bool add_api_token(std::int64_t user_id, const std::string& stored_hash,
                             const std::string& token_hash, Instant expires) = 0;
  // Deletes the key with this hash; false when there was none.
  virtual bool revoke_api_token(const std::string& token_hash) = 0;
  // Deletes keys that expired before `before`; returns how many.
  virtual std::int64_t purge_api_tokens(Instant before) = 0;
  // Makes sure a user row exists for each (canonical) email; new ones are
  // inactive and have no password. Idempotent.
  virtual void ensure_users(const std::vector<std::string>& emails) = 0;
  virtual bool is_staff_email(const std::string& email) = 0;
};

// common/db/unit_of_work.h's Atomicity. kTransaction: every statement of the
// work commits together (writes with more than one statement, or reads that
// must agree with a write). kPerStatement: each statement commits on its
// own, which saves the BEGIN and COMMIT round trips; for work whose change,
// if any, is one statement, with at most idempotent writes before it. Should
// the connection break during such a statement, whether it committed is
// unknown: the repositories then throw pqxx::in_doubt_error, which no one
// retries.
using calndro::Atomicity;
using calndro::CallContext;

// An accepted notify waiting for the notification service: `id` is the
// request id it is queued with there (stable across retries), `request`
// the calndro.notify.v1.QueueNotificationsRequest as JSON.
// The head of an event's log a mail quotes (SPEC §10's receipt).
struct AuditReceipt {
  std::int64_t seq = 0;
  std::string hash;
};

struct PendingNotification {
  std::string id;
  std::int64_t event_id = 0;
  std::vector<std::string> recipients;
  std::string request;
  int attempts = 0;               // hand-overs tried before this one
  std::string caller_request_id;  // the notify's x-request-id, for the logs
  // The email of the caller whose request queued these mails (the log
  // entry's effector): the hourly mail limit counts against it.
  std::string caused_by;
  // The event's log head when claimed for a hand-over; nullopt before any
  // entry of the event is sealed.
  std::optional<AuditReceipt> audit_head;
};

// The mails one outbox row queued: when, and how many (its recipients).
struct QueuedMails {
  Instant at;
  std::int64_t mails = 0;
};

struct NotificationBacklog {
  std::int64_t pending = 0;
  std::optional<Instant> oldest;  // created_at of the oldest pending one
};

// The event service's outbox of notifies (migration 0005).
class NotificationOutbox {
 public:
  virtual ~NotificationOutbox() = default;

  virtual void add(const PendingNotification& notification, Instant now) = 0;
  // Up to `limit` pending notifications due at `now`, oldest first, each
  // leased until `lease_until` (no other relay claims it before then).
  // Rows another relay is claiming are skipped, not waited for.
  virtual std::vector<PendingNotification> claim_due(Instant now, Instant lease_until, int limit) = 0;
  virtual void mark_handed_over(const std::string& id, Instant now) = 0;
  // Due again at `when`, after a failed hand-over.
  virtual void retry_at(const std::string& id, Instant when, const std::string& error) = 0;
  // Refused for good by the notification service (an invalid request).
  virtual void mark_refused(const std::string& id, Instant now, const std::string& error) = 0;
  virtual NotificationBacklog backlog() = 0;
  // The mails `caused_by` queued about the event after `since`, oldest
  // first, whatever became of them since (mail_budget.h).
  virtual std::vector<QueuedMails> mails_caused_since(std::int64_t event_id, const std::string& caused_by,
                                                      Instant since) = 0;
};

// What an idempotent request (SPEC §3 "Idempotency") left under its key.
struct IdempotencyRecord {
  std::string request_hash;  // idempotency.h's request_hash() of the first request
  std::string response;      // its answer, the serialized response message
  Instant created_at;
};

// The answers of idempotent requests, by (caller, key) (migration 0007).
// A record is written in the transaction of the request's action, so the
// two commit together or not at all.
class IdempotencyStore {
 public:
  virtual ~IdempotencyStore() = default;

  // Claims (caller, key) for the running transaction, or returns the
  // record an earlier request committed under it. A record created before
  // `expired_before` no longer counts: it is claimed anew. On PostgreSQL a
  // claim held by another transaction makes this wait until that one ends:
  // committed, its record is returned; rolled back, the claim is ours.
  virtual std::optional<IdempotencyRecord> claim(const std::string& caller, const std::string& key,
                                                 const std::string& request_hash, Instant now,
                                                 Instant expired_before) = 0;
  // Stores the answer of the request that claimed (caller, key).
  virtual void complete(const std::string& caller, const std::string& key, const std::string& response) = 0;
  // Gives up the claim on (caller, key) that the running transaction holds,
  // leaving no record: the request changed nothing.
  virtual void release(const std::string& caller, const std::string& key) = 0;
  // Deletes the records created before `before`; returns how many.
  virtual std::int64_t purge_idempotency_records(Instant before) = 0;
};

// Which deadline mails of an event (SPEC §9) a round settles: the
// reminders, or the summary (and with it any reminders not yet sent).
enum class DeadlineStep { kReminders, kSummary };

// The schedule of deadline mails, kept on the event rows (migration 0011):
// what is due is found from the database, by any replica, after any restart.
class DeadlineRepository {
 public:
  virtual ~DeadlineRepository() = default;

  // The ids of up to `limit` events whose next deadline mail is due at
  // `now`, earliest first, each locked as RowLock::kForUpdate locks until the
  // transaction ends. Events another transaction holds are skipped, not
  // waited for: they are still due at the next round.
  virtual std::vector<std::int64_t> claim_due_deadlines(Instant now, int limit) = 0;
  // Records the mails of `step` as settled for the event's current
  // respond_by, so they are never due again for it. The caller holds the
  // row lock. Bookkeeping, not a change of the event: its version stays.
  virtual void settle_deadline(std::int64_t id, DeadlineStep step) = 0;
};

// Open change streams by replica and caller (migration 0015), so that the
// per-caller limit of SPEC §11 holds across replicas (stream_census.h).
class StreamCensusRepository {
 public:
  virtual ~StreamCensusRepository() = default;

  // Holds `caller_key`'s census until the transaction ends: two replicas
  // admitting the caller's streams at once take turns.
  virtual void lock_caller(const std::string& caller_key) = 0;
  // The streams `caller_key` holds on replicas other than `replica` that
  // refreshed their counts within `fresh` (the database's clock: replicas'
  // clocks may disagree).
  virtual std::int64_t open_elsewhere(const std::string& replica, const std::string& caller_key,
                                      std::chrono::seconds fresh) = 0;
  // Sets `replica`'s counts of the callers in `open` (caller key -> streams,
  // all above 0), refreshed now. kWholeReplica: `open` is all the replica
  // holds, and its other callers' rows go.
  enum class Scope { kTheseCallers, kWholeReplica };
  virtual void record(const std::string& replica, const std::map<std::string, std::size_t>& open,
                      Scope scope) = 0;
  // Removes every replica's rows not refreshed within `stale` (stopped replicas).
  virtual void forget_stale(std::chrono::seconds stale) = 0;
};

struct Repositories {
  EventRepository& events;
  UserRepository& users;
  NotificationOutbox& outbox;
  IdempotencyStore& idempotency;
  DeadlineRepository& deadlines;
  LogSealRepository& log_seals;
  WebhookRepository& webhooks;
  StreamCensusRepository& stream_census;
};

// Runs work on one database connection (common/db/unit_of_work.h).
using Database = UnitOfWork<Repositories>;

}  // namespace calndro::events
