#include "events/deadline_mails.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "calndro/notify/v1/notify.pb.h"
#include "common/base/log.h"
#include "common/base/status_macros.h"
#include "common/text/proto_time.h"
#include "common/text/time_format.h"
#include "common/text/time_slot.h"
#include "events/answer_tally.h"
#include "events/deadline_plan.h"
#include "events/event_mapping.h"
#include "events/mail_budget.h"
#include "events/pending_mail.h"

namespace calndro::events {
namespace {

namespace notify_v1 = calndro::notify::v1;

enum class DeadlineMailKind { kReminder, kSummary };

// The word of the outbox row's id and of the NOTIFY entry's data.
const char* kind_word(DeadlineMailKind kind) {
  return kind == DeadlineMailKind::kReminder ? "reminder" : "summary";
}

std::string request_as_json(const notify_v1::QueueNotificationsRequest& queue) {
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(queue, &json).ok()) {
    throw std::runtime_error("QueueNotificationsRequest not representable as JSON");
  }
  return json;
}

// What every deadline mail of `event` to `recipients` carries, into `queue`;
// returns its outbox row (without the request yet), with a new stable id
// (the notification service's idempotency key). The creator's deadline
// causes it: the mail counts against the creator's hourly budget.
PendingNotification new_pending(RandomSource& random, const EventRecord& event, DeadlineMailKind kind,
                                const std::vector<std::string>& recipients,
                                notify_v1::QueueNotificationsRequest& queue) {
  PendingNotification pending =
      new_pending_mail(random, event, std::string(kind_word(kind)) + "-", recipients, event.creator, queue);
  slots_to_proto(event.slots, *queue.mutable_slots());
  notify_v1::DeadlineMail& deadline = *queue.mutable_deadline();
  deadline.set_kind(kind == DeadlineMailKind::kReminder ? notify_v1::DeadlineMail::KIND_REMINDER
                                                        : notify_v1::DeadlineMail::KIND_SUMMARY);
  *deadline.mutable_respond_by() = instant_to_proto(*event.respond_by);
  return pending;
}

// The NOTIFY entry of one deadline mail (SPEC §9). Its effector is the
// creator, whose deadline sent it (an entry names a person; the service has
// no address of its own).
void log_mail(EventRepository& events, const EventRecord& event, DeadlineMailKind kind,
              const std::string& recipient, Instant now) {
  const nlohmann::json data = {
      {"recipient", recipient}, {kind_word(kind), true}, {"respond_by", format_instant(*event.respond_by)}};
  events.append_log(event.id, now, Occurrence::kNotify, event.creator, event.slots, data);
}

}  // namespace

DeadlineMails::DeadlineMails(Database& database, const Clock& clock, RandomSource& random,
                             DeadlineMailOptions options, std::function<void()> queued, Driver driver)
    : database_(database), clock_(clock), random_(random), options_(options), queued_(std::move(queued)) {
  // A failed round changed nothing (one transaction): what was due is still
  // due, and the next tick tries again.
  if (driver == Driver::kOwnThread) {
    rounds_.emplace(
        BackgroundRounds::Options{.what = "deadline mails", .pause = options_.poll, .batch = options_.batch},
        [this] { return mail_once(); });
  }
}

absl::StatusOr<int> DeadlineMails::mail_once() {
  const Instant now = clock_.now();
  Round round;
  CALNDRO_RETURN_IF_ERROR(
      database_.run(CallContext::background(), Atomicity::kTransaction, [&](Repositories& stores) {
        round = Round{};  // the work may run again on a new connection
        // Each claimed event is locked and was due when locked (PostgreSQL
        // checks the condition again on a row it had to wait for): no other
        // round settles it before this transaction ends.
        for (const std::int64_t id : stores.deadlines.claim_due_deadlines(now, options_.batch)) {
          const std::optional<EventRecord> event = stores.events.load(id, RowLock::kForUpdate);
          if (event && !event->deleted && event->respond_by &&
              settle(stores, *event, now, round) == Outcome::kSettled) {
            ++round.settled;
          }
        }
        return absl::OkStatus();
      }));
  // Only what committed is told.
  for (const nlohmann::json& queued : round.queued) {
    log::info("deadline mails queued", queued);
  }
  if (!round.queued.empty()) {
    queued_();
  }
  return round.settled;
}

DeadlineMails::Outcome DeadlineMails::settle(Repositories& stores, const EventRecord& event, Instant now,
                                             Round& round) {
  const DeadlinePlan plan = plan_deadline_mails(event, now);
  const std::size_t mails = plan.reminded.size() + (plan.summary ? 1 : 0);
  if (mails > 0) {
    // Read under the event's row lock, as a request's check is. Mails more
    // than a whole budget go once the creator's window is clear: they are
    // never refused for good, as a request's would be.
    const MailBudget budget{.per_hour = options_.mails_per_hour};
    const std::size_t counted = std::min<std::size_t>(mails, static_cast<std::size_t>(budget.per_hour));
    const absl::Status allowed = check_mail_budget(
        budget, stores.outbox.mails_caused_since(event.id, event.creator, now - budget.window), counted, now);
    if (!allowed.ok()) {
      log::info("deadline mails wait for the creator's hourly mail limit",
                {{"event_id", event.id}, {"mails", static_cast<std::int64_t>(mails)}});
      return Outcome::kDeferred;
    }
  }
  if (!plan.reminded.empty()) {
    queue_reminders(stores, event, plan.reminded, now);
  }
  if (plan.summary) {
    queue_summary(stores, event, now);
  }
  stores.deadlines.settle_deadline(event.id, plan.step);
  if (mails > 0) {
    round.queued.push_back({{"event_id", event.id},
                            {"reminders", static_cast<std::int64_t>(plan.reminded.size())},
                            {"summary", plan.summary}});
  }
  return Outcome::kSettled;
}

void DeadlineMails::queue_reminders(Repositories& stores, const EventRecord& event,
                                    const std::vector<std::string>& parties, Instant now) {
  notify_v1::QueueNotificationsRequest queue;
  PendingNotification pending = new_pending(random_, event, DeadlineMailKind::kReminder, parties, queue);
  // From the creator, as an invitation is from its organizer: a reply
  // reaches whoever set the deadline.
  queue.set_sender(event.creator);
  pending.request = request_as_json(queue);
  stores.outbox.add(pending, now);
  for (const std::string& party : parties) {
    log_mail(stores.events, event, DeadlineMailKind::kReminder, party, now);
  }
}

void DeadlineMails::queue_summary(Repositories& stores, const EventRecord& event, Instant now) {
  notify_v1::QueueNotificationsRequest queue;
  PendingNotification pending =
      new_pending(random_, event, DeadlineMailKind::kSummary, {event.creator}, queue);
  notify_v1::DeadlineMail& summary = *queue.mutable_deadline();
  const std::vector<TallyRow> rows = tally(event.slots, event.parties, event.answers);
  for (const TallyRow& row : rows) {
    notify_v1::SlotTally& wire = *summary.add_tally();
    slot_to_proto(row.slot, *wire.mutable_slot());
    wire.set_yes(row.yes);
    wire.set_maybe(row.maybe);
    wire.set_no(row.no);
    wire.set_pending(row.pending);
  }
  if (const std::optional<Slot> best = best_slot(rows)) {
    slot_to_proto(*best, *summary.mutable_best_slot());
  }
  pending.request = request_as_json(queue);
  stores.outbox.add(pending, now);
  log_mail(stores.events, event, DeadlineMailKind::kSummary, event.creator, now);
}

}  // namespace calndro::events
