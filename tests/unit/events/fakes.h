#pragma once

// In-memory stand-ins for the event service's dependencies: the database
// (both repositories, with a transaction that rolls back on a refused call),
// the notification service and a random source. Close enough to the
// PostgreSQL stores for the service logic; the integration tests keep the
// real database as the truth.

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/crypto/crypto.h"
#include "events/deadline_plan.h"
#include "events/notification_client.h"
#include "events/stores.h"
#include "fake_stream_census.h"
#include "fake_webhooks.h"
#include "support/counting_random.h"

namespace calndro::events {

using calndro::testing::CountingRandom;

// A log entry with the event it belongs to.
struct FakeLogEntry {
  std::int64_t event_id = 0;
  LogEntryRecord entry;
};

class FakeStores final : public Database,
                         public EventRepository,
                         public UserRepository,
                         public NotificationOutbox,
                         public IdempotencyStore,
                         public DeadlineRepository,
                         public LogSealRepository {
 public:
  struct ApiToken {
    std::int64_t user_id = 0;
    Instant expires;
  };
  // A row of the notification outbox.
  struct Outboxed {
    PendingNotification notification;
    Instant created;
    std::string state = "pending";
    Instant next_attempt;
    std::string last_error;
  };
  // Everything a transaction may have to undo.
  struct State {
    std::map<std::int64_t, EventRecord> events;
    std::vector<FakeLogEntry> log;
    std::map<std::int64_t, User> users;
    std::map<std::string, ApiToken> api_tokens;  // by hash
    std::int64_t next_id = 1;
    std::map<std::string, Outboxed> outbox;                                        // by id
    std::map<std::pair<std::string, std::string>, IdempotencyRecord> idempotency;  // by (caller, key)
    std::map<std::int64_t, DeadlineMarks> deadline_marks;                          // by event id
    std::map<std::int64_t, audit::LogHead> log_heads;                              // by event id
  };

  State state;
  FakeWebhooks webhooks;
  FakeStreamCensus stream_census;
  std::vector<Atomicity> runs;   // one per connection lease
  bool fail_log_append = false;  // append_log throws, as a lost connection would
  // Called as each lease begins: what other callers changed meanwhile.
  std::function<void()> before_run = [] {};
  // The outcomes of the next runs, in order: a non-OK one is returned
  // without running the work, as a database that refuses the call does;
  // once empty, every run does its work.
  std::deque<absl::Status> next_runs;

  absl::Status run(const CallContext&, Atomicity atomicity, Work work) override {
    runs.push_back(atomicity);
    before_run();
    if (!next_runs.empty()) {
      const absl::Status next = next_runs.front();
      next_runs.pop_front();
      if (!next.ok()) {
        return next;
      }
    }
    const State before = state;
    Repositories repositories{*this, *this, *this, *this, *this, *this, webhooks, stream_census};
    absl::Status status;
    try {
      status = work(repositories);
    } catch (...) {
      if (atomicity == Atomicity::kTransaction) {
        state = before;
      }
      throw;
    }
    if (!status.ok() && atomicity == Atomicity::kTransaction) {
      state = before;
    }
    return status;
  }

  void add(const PendingNotification& notification, Instant now) override {
    if (!state.outbox.emplace(notification.id, Outboxed{notification, now, "pending", now, ""}).second) {
      throw std::runtime_error("duplicate key in pending_notifications");
    }
  }

  std::vector<PendingNotification> claim_due(Instant now, Instant lease_until, int limit) override {
    std::vector<PendingNotification> claimed;
    for (auto& [id, row] : state.outbox) {
      if (row.state == "pending" && row.next_attempt <= now && static_cast<int>(claimed.size()) < limit) {
        claimed.push_back(row.notification);
        row.next_attempt = lease_until;
        ++row.notification.attempts;
      }
    }
    return claimed;
  }

  void mark_handed_over(const std::string& id, Instant) override { settle(id, "handed_over", ""); }
  void retry_at(const std::string& id, Instant when, const std::string& error) override {
    settle(id, "pending", error);
    state.outbox.at(id).next_attempt = when;
  }
  void mark_refused(const std::string& id, Instant, const std::string& error) override {
    settle(id, "refused", error);
  }
  NotificationBacklog backlog() override {
    NotificationBacklog backlog;
    for (const auto& [id, row] : state.outbox) {
      if (row.state == "pending") {
        ++backlog.pending;
        backlog.oldest = std::min(backlog.oldest.value_or(row.created), row.created);
      }
    }
    return backlog;
  }

  std::vector<QueuedMails> mails_caused_since(std::int64_t event_id, const std::string& caused_by,
                                              Instant since) override {
    std::vector<QueuedMails> queued;
    for (const auto& [id, row] : state.outbox) {
      const PendingNotification& pending = row.notification;
      if (pending.event_id == event_id && pending.caused_by == caused_by && row.created > since) {
        queued.push_back({row.created, static_cast<std::int64_t>(pending.recipients.size())});
      }
    }
    std::stable_sort(queued.begin(), queued.end(), [](const auto& a, const auto& b) { return a.at < b.at; });
    return queued;
  }

  // No other transaction runs at the same time here: a claim never waits.
  std::optional<IdempotencyRecord> claim(const std::string& caller, const std::string& key,
                                         const std::string& request_hash, Instant now,
                                         Instant expired_before) override {
    const auto found = state.idempotency.find({caller, key});
    if (found != state.idempotency.end() && found->second.created_at >= expired_before) {
      return found->second;
    }
    state.idempotency[{caller, key}] = {request_hash, "", now};
    return std::nullopt;
  }
  void complete(const std::string& caller, const std::string& key, const std::string& response) override {
    state.idempotency.at({caller, key}).response = response;
  }
  void release(const std::string& caller, const std::string& key) override {
    state.idempotency.erase({caller, key});
  }
  std::int64_t purge_idempotency_records(Instant before) override {
    return static_cast<std::int64_t>(
        std::erase_if(state.idempotency, [&](const auto& item) { return item.second.created_at < before; }));
  }

  // Due as events.deadline_mail_due_at says; no row is ever locked here.
  std::vector<std::int64_t> claim_due_deadlines(Instant now, int limit) override {
    std::vector<std::pair<Instant, std::int64_t>> due;
    for (const auto& [id, event] : state.events) {
      const auto at = deadline_mail_due_at(event, state.deadline_marks[id]);
      if (at && *at <= now) {
        due.emplace_back(*at, id);
      }
    }
    std::sort(due.begin(), due.end());
    std::vector<std::int64_t> ids;
    for (const auto& [at, id] : due) {
      if (static_cast<int>(ids.size()) < limit) {
        ids.push_back(id);
      }
    }
    return ids;
  }
  void settle_deadline(std::int64_t id, DeadlineStep step) override {
    const EventRecord& event = state.events.at(id);
    DeadlineMarks& marks = state.deadline_marks[id];
    marks.reminded_for = event.respond_by;
    if (step == DeadlineStep::kSummary) {
      marks.summarized_for = event.respond_by;
    }
  }

  // The chains as log_sealer.h extends them; no row is ever locked here.
  std::vector<std::int64_t> events_to_seal(int limit) override {
    std::vector<std::int64_t> due;
    for (const auto& item : state.log) {
      if (!item.entry.link && std::find(due.begin(), due.end(), item.event_id) == due.end() &&
          static_cast<int>(due.size()) < limit) {
        due.push_back(item.event_id);
      }
    }
    return due;
  }
  void add_head_rows(const std::vector<std::int64_t>& /*events*/) override {}
  std::vector<ChainTip> lock_heads(const std::vector<std::int64_t>& events) override {
    std::vector<ChainTip> tips;
    for (const std::int64_t event_id : events) {
      const auto head = state.log_heads.find(event_id);
      tips.push_back(head == state.log_heads.end() ? ChainTip{event_id, 0, std::string(audit::kGenesisHash)}
                                                   : ChainTip{event_id, head->second.seq, head->second.hash});
    }
    return tips;
  }
  std::vector<UnsealedEntry> unsealed_entries(const std::vector<std::int64_t>& events, int limit) override {
    std::vector<UnsealedEntry> entries;
    for (const std::int64_t event_id : events) {
      for (const auto& item : state.log) {
        if (item.event_id == event_id && !item.entry.link && static_cast<int>(entries.size()) < limit) {
          entries.push_back({item.event_id, item.entry});
        }
      }
    }
    return entries;
  }
  void seal(const std::vector<std::pair<std::int64_t, ChainLink>>& links) override {
    for (const auto& [id, link] : links) {
      for (auto& item : state.log) {
        if (item.entry.id == id && !item.entry.link) {
          item.entry.link = link;
        }
      }
    }
  }
  void move_heads(const std::vector<audit::LogHead>& heads, const std::string& /*key_id*/) override {
    for (const auto& head : heads) {
      state.log_heads[head.event_id] = head;
    }
  }

  // A user with an API key: returns the key.
  std::string add_user(const std::string& email, bool staff = false) {
    User user;
    user.id = state.next_id++;
    user.email = email;
    user.active = true;
    user.staff = staff;
    user.password_hash = "unused";
    state.users[user.id] = user;
    const std::string key = sha256_hex(email).substr(0, 40);
    state.api_tokens[sha256_hex(key)] = {user.id, Instant::max()};
    return key;
  }

  void settle(const std::string& id, const std::string& to, const std::string& error) {
    Outboxed& row = state.outbox.at(id);
    if (row.state == "pending") {
      row.state = to;
      row.last_error = error;
    }
  }

  std::vector<LogEntryRecord> log_of(std::int64_t event_id) const {
    std::vector<LogEntryRecord> entries;
    for (const auto& item : state.log) {
      if (item.event_id == event_id) {
        entries.push_back(item.entry);
      }
    }
    return entries;
  }

  std::optional<EventRecord> load(std::int64_t id, RowLock) override {
    const auto found = state.events.find(id);
    if (found == state.events.end()) {
      return std::nullopt;
    }
    return found->second;
  }

  std::optional<std::int64_t> create_logged(const EventRecord& event, std::int64_t, Instant now,
                                            const std::string& effector,
                                            const nlohmann::json& log_data) override {
    for (const auto& party : event.parties) {
      if (!find_by_email(party)) {
        return std::nullopt;
      }
    }
    EventRecord stored = event;
    stored.id = state.next_id++;
    stored.creator = effector;
    state.events[stored.id] = stored;
    append_log(stored.id, now, Occurrence::kUpdate, effector, stored.slots, log_data);
    return stored.id;
  }

  std::optional<EventRecord> update_logged(std::int64_t id, const EventChange& change, Instant now,
                                           const std::string& effector,
                                           const nlohmann::json& log_data) override {
    const auto found = state.events.find(id);
    if (found == state.events.end() || found->second.deleted ||
        (change.expected_version && *change.expected_version != found->second.version) ||
        (change.only_while_open && found->second.agreed_slot)) {
      return std::nullopt;
    }
    EventRecord& event = found->second;
    if (change.title && event.agreed_slot) {
      ++event.calendar_sequence;
    }
    event.title = change.title.value_or(event.title);
    if (change.slots) {
      event.slots = *change.slots;
      event.answers = answers_within(event.answers, event.slots);
    }
    if (change.respond_by) {
      event.respond_by = change.respond_by->at;
    }
    event.remind_before = change.remind_before.value_or(event.remind_before);
    ++event.version;
    append_log(id, now, Occurrence::kUpdate, effector, event.slots, log_data);
    return event;
  }

  EventRecord set_agreed_slot(std::int64_t id, const std::optional<Slot>& slot) override {
    EventRecord& event = state.events.at(id);
    event.agreed_slot = slot;
    ++event.version;
    ++event.calendar_sequence;
    return event;
  }

  EventRecord set_answers_logged(std::int64_t id, const Answers& answers, Instant now,
                                 const std::string& effector, const nlohmann::json& log_data) override {
    EventRecord& event = state.events.at(id);
    event.answers = answers;
    ++event.version;
    append_log(id, now, Occurrence::kAnswer, effector, event.slots, log_data);
    return event;
  }

  void mark_deleted(std::int64_t id, Instant) override {
    EventRecord& event = state.events.at(id);
    event.deleted = true;
    ++event.version;
    if (event.agreed_slot) {
      ++event.calendar_sequence;
    }
  }

  Page<EventRecord> list_all(std::int64_t after, int limit) override {
    return page_of_events(after, limit, [](const EventRecord&) { return true; });
  }

  Page<EventRecord> list_for_user(std::int64_t user_id, std::int64_t after, int limit) override {
    const std::string email = state.users.at(user_id).email;
    return page_of_events(after, limit, [&](const EventRecord& event) { return event.has_party(email); });
  }

  void append_log(std::int64_t event_id, Instant when, Occurrence occurrence, const std::string& effector,
                  const std::vector<Slot>& slots, const nlohmann::json& data) override {
    if (fail_log_append) {
      throw std::runtime_error("connection lost");
    }
    state.log.push_back({event_id, {state.next_id++, when, occurrence, effector, slots, data, std::nullopt}});
  }

  LogPage read_log(std::int64_t event_id, std::int64_t after, int limit) override {
    std::vector<LogEntryRecord> entries;
    for (const auto& entry : log_of(event_id)) {
      if (entry.id > after) {
        entries.push_back(entry);
      }
    }
    const auto head = state.log_heads.find(event_id);
    return {.entries = page_of(std::move(entries), limit),
            .head = head == state.log_heads.end() ? std::nullopt : std::optional(head->second)};
  }

  std::optional<User> find_by_login(const std::string& login) override {
    for (const auto& [id, user] : state.users) {
      if (user.username == login) {
        return user;
      }
    }
    std::string lower = login;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    return find_by_email(lower);
  }

  std::optional<User> find_by_api_token_hash(const std::string& token_hash, Instant now) override {
    const auto found = state.api_tokens.find(token_hash);
    if (found == state.api_tokens.end() || found->second.expires <= now) {
      return std::nullopt;
    }
    return state.users.at(found->second.user_id);
  }

  bool add_api_token(std::int64_t user_id, const std::string& stored_hash, const std::string& token_hash,
                     Instant expires) override {
    const auto user = state.users.find(user_id);
    if (user == state.users.end() || !user->second.active || user->second.password_hash != stored_hash) {
      return false;
    }
    state.api_tokens[token_hash] = {user_id, expires};
    return true;
  }

  bool revoke_api_token(const std::string& token_hash) override {
    return state.api_tokens.erase(token_hash) == 1;
  }

  std::int64_t purge_api_tokens(Instant before) override {
    return static_cast<std::int64_t>(
        std::erase_if(state.api_tokens, [&](const auto& item) { return item.second.expires < before; }));
  }

  void ensure_users(const std::vector<std::string>& emails) override {
    for (const auto& email : emails) {
      if (!find_by_email(email)) {
        User user;
        user.id = state.next_id++;
        user.email = email;
        state.users[user.id] = user;
      }
    }
  }

  bool is_staff_email(const std::string& email) override {
    const auto user = find_by_email(email);
    return user && user->staff && user->active;
  }

 private:
  std::optional<User> find_by_email(const std::string& email) const {
    for (const auto& [id, user] : state.users) {
      if (user.email == email) {
        return user;
      }
    }
    return std::nullopt;
  }

  template <typename Keep>
  Page<EventRecord> page_of_events(std::int64_t after, int limit, Keep keep) {
    std::vector<EventRecord> events;
    for (const auto& [id, event] : state.events) {
      if (id > after && !event.deleted && keep(event)) {
        events.push_back(event);
      }
    }
    return page_of(std::move(events), limit);
  }

  template <typename T>
  static Page<T> page_of(std::vector<T> items, int limit) {
    Page<T> page;
    if (static_cast<int>(items.size()) > limit) {
      items.resize(limit);
      page.next_after = items.back().id;
    }
    page.items = std::move(items);
    return page;
  }
};

// The notification service: records what it was asked to queue, and
// resolves the email tokens it was given.
class FakeNotifications final : public NotificationClient {
 public:
  std::map<std::string, calndro::notify::v1::ResolveTokenResponse> tokens;
  std::vector<calndro::notify::v1::QueueNotificationsRequest> queued;
  std::vector<std::string> queued_request_ids;  // the x-request-id of each queued call
  absl::Status queue_status;                    // what queue_notifications answers

  absl::Status resolve_token(const std::string& token, const std::string&,
                             calndro::notify::v1::ResolveTokenResponse& response) override {
    const auto found = tokens.find(token);
    if (found == tokens.end()) {
      return absl::NotFoundError("no such token");
    }
    response = found->second;
    return absl::OkStatus();
  }

  absl::Status queue_notifications(const calndro::notify::v1::QueueNotificationsRequest& request,
                                   const std::string& request_id,
                                   calndro::notify::v1::QueueNotificationsResponse&) override {
    if (queue_status.ok()) {
      queued.push_back(request);
      queued_request_ids.push_back(request_id);
    }
    return queue_status;
  }
};

}  // namespace calndro::events
