#include "events/deadline_plan.h"

namespace calndro::events {

std::optional<Instant> deadline_mail_due_at(const EventRecord& event, const DeadlineMarks& marks) {
  if (!event.respond_by || event.deleted || marks.summarized_for == event.respond_by) {
    return std::nullopt;
  }
  if (marks.reminded_for == event.respond_by) {
    return event.respond_by;
  }
  return *event.respond_by - event.remind_before;
}

DeadlinePlan plan_deadline_mails(const EventRecord& event, Instant now) {
  DeadlinePlan plan;
  const bool agreed = event.agreed_slot.has_value();
  if (event.respond_by && now >= *event.respond_by) {
    plan.step = DeadlineStep::kSummary;
    plan.summary = !agreed;
    return plan;
  }
  if (agreed) {
    return plan;
  }
  for (const std::string& party : event.parties) {
    const auto answered = event.answers.find(party);
    if (party != event.creator && (answered == event.answers.end() || answered->second.empty())) {
      plan.reminded.push_back(party);
    }
  }
  return plan;
}

}  // namespace calndro::events
