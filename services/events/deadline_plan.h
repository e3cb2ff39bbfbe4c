#pragma once

#include <optional>
#include <string>
#include <vector>

#include "events/stores.h"

// SPEC §9's deadline mails as pure functions: when an event's next one is
// due and what a round sends for it. The job (deadline_mails.h) applies
// them under the event's row lock; nothing here reads a database or a clock.
namespace calndro::events {

// What has been settled for an event's deadline (migration 0011's
// reminded_for and summarized_for): the respond_by whose reminders, and
// whose summary, were sent or dropped. A new respond_by matches neither.
struct DeadlineMarks {
  std::optional<Instant> reminded_for;
  std::optional<Instant> summarized_for;
};

// When the next deadline mail of `event` is due: respond_by - remind_before
// until the reminders of this respond_by are settled, then respond_by until
// its summary is; nullopt without a deadline, for a deleted event, or once
// both are settled. The generated column events.deadline_mail_due_at is
// the same rule in SQL.
std::optional<Instant> deadline_mail_due_at(const EventRecord& event, const DeadlineMarks& marks);

// What a round does about an event whose deadline mail is due at `now`.
struct DeadlinePlan {
  DeadlineStep step = DeadlineStep::kReminders;  // the marks it sets
  // The parties to remind, in the event's party order.
  std::vector<std::string> reminded;
  // Whether the creator is mailed the summary.
  bool summary = false;
};

// Before respond_by: a reminder to each party but the creator that has
// answered none of the current slots, none while the event is agreed.
// From respond_by on: the summary to the creator unless the event is agreed;
// reminders not sent by then are dropped (answers are closed: a reminder
// would ask for an answer the service refuses).
DeadlinePlan plan_deadline_mails(const EventRecord& event, Instant now);

}  // namespace calndro::events
