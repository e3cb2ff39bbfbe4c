// EventServiceImpl's AnswerSlots (SPEC §9): each party says, for itself,
// which slots suit it, without touching anyone else's options.
#include "events/event_service.h"

#include <algorithm>
#include <utility>

#include "common/base/status_macros.h"
#include "common/grpc/rich_status.h"
#include "common/text/limits.h"
#include "events/event_checks.h"
#include "events/event_mapping.h"
#include "events/preconditions.h"

namespace calndro::events {
namespace {

std::string numbered(int index) {
  return "Answer " + std::to_string(index + 1) + ": ";
}

std::optional<Answer> answer_from_proto(v1::Answer answer) {
  switch (answer) {
    case v1::ANSWER_YES:
      return Answer::kYes;
    case v1::ANSWER_MAYBE:
      return Answer::kMaybe;
    case v1::ANSWER_NO:
      return Answer::kNo;
    default:
      return std::nullopt;
  }
}

// The request's answers as given, each well-formed; every refusal names
// `answers` (one 400 lists them all).
absl::StatusOr<std::vector<SlotAnswer>> read_answers(const v1::AnswerSlotsRequest& request) {
  if (request.answers_size() > limits::kMaxSlots) {
    return invalid_argument("answers", "At most " + std::to_string(limits::kMaxSlots) +
                                           " answers (one per slot); got " +
                                           std::to_string(request.answers_size()) + ".");
  }
  std::vector<FieldViolation> violations;
  std::vector<SlotAnswer> given;
  for (int i = 0; i < request.answers_size(); ++i) {
    const v1::SlotAnswer& wire = request.answers(i);
    const auto slot = wire.has_slot() ? slot_from_proto(wire.slot())
                                      : absl::StatusOr<Slot>(absl::InvalidArgumentError("is required."));
    if (!slot.ok()) {
      violations.push_back({"answers", numbered(i) + "slot: " + std::string(slot.status().message())});
    }
    const auto answer = answer_from_proto(wire.answer());
    if (!answer) {
      violations.push_back({"answers", numbered(i) + "answer: must be yes, maybe or no."});
    }
    if (slot.ok() && answer) {
      given.push_back({*slot, *answer});
    }
  }
  if (!violations.empty()) {
    return invalid_argument(std::move(violations));
  }
  return given;
}

// The caller's new row: each answer for a current slot of `event` (compared
// as instants and durations), each slot once; in slot order.
absl::StatusOr<std::vector<SlotAnswer>> match_slots(const std::vector<SlotAnswer>& given,
                                                    const EventRecord& event) {
  std::vector<FieldViolation> violations;
  for (std::size_t i = 0; i < given.size(); ++i) {
    const int index = static_cast<int>(i);
    if (!std::binary_search(event.slots.begin(), event.slots.end(), given[i].slot)) {
      violations.push_back({"answers", numbered(index) + "slot: not one of the event's slots."});
      continue;
    }
    const auto first = std::find_if(given.begin(), given.begin() + index,
                                    [&](const SlotAnswer& earlier) { return earlier.slot == given[i].slot; });
    if (first != given.begin() + index) {
      violations.push_back({"answers", numbered(index) + "slot: the same slot as answer " +
                                           std::to_string(first - given.begin() + 1) +
                                           " (each slot at most once)."});
    }
  }
  if (!violations.empty()) {
    return invalid_argument(std::move(violations));
  }
  std::vector<SlotAnswer> row = given;
  std::sort(row.begin(), row.end(), [](const SlotAnswer& a, const SlotAnswer& b) { return a.slot < b.slot; });
  return row;
}

// 409 while the event does not take answers from `caller`: agreed, or past
// its deadline for anyone but the creator and staff.
absl::Status check_taking_answers(const EventRecord& event, const Caller& caller, Instant now) {
  if (event.agreed_slot) {
    return state_conflict(kEventAgreedReason,
                          "The event is agreed: reopen it before answering. Nothing was changed.");
  }
  if (event.respond_by && now >= *event.respond_by &&
      decide(Action::kAnswerLate, caller.relation_to(&event)) != Decision::kAllow) {
    return state_conflict(kAnswersClosedReason, "Answers closed at " + format_instant(*event.respond_by));
  }
  return absl::OkStatus();
}

// What the ANSWER entry says: the row in output form, or, for an event that
// hides answers, only that there was one (every party reads the log).
nlohmann::json answer_data(const EventRecord& event, const std::vector<SlotAnswer>& row) {
  if (event.hide_answers) {
    return {{"hidden", true}};
  }
  nlohmann::json answers = nlohmann::json::array();
  for (const SlotAnswer& given : row) {
    answers.push_back({{"slot", slot_json(given.slot)}, {"answer", answer_word(given.answer)}});
  }
  return {{"answers", std::move(answers)}};
}

}  // namespace

absl::Status EventServiceImpl::answer_slots(Repositories& stores, const Caller& caller,
                                            const EventRecord& event, const v1::AnswerSlotsRequest& request,
                                            v1::Event& response) {
  if (!event.has_party(caller.email)) {
    return absl::PermissionDeniedError(
        "Only the event's parties answer, each for itself; staff who are not a party cannot.");
  }
  CALNDRO_ASSIGN_OR_RETURN(const std::vector<SlotAnswer> given, read_answers(request));
  CALNDRO_RETURN_IF_ERROR(check_event_version(expected_version_of(request), event, caller));
  const Instant now = clock_.now();
  CALNDRO_RETURN_IF_ERROR(check_taking_answers(event, caller, now));
  CALNDRO_ASSIGN_OR_RETURN(std::vector<SlotAnswer> row, match_slots(given, event));
  const auto current = event.answers.find(caller.email);
  if (current == event.answers.end() ? row.empty() : current->second == row) {
    event_to_proto(event, caller, response);  // nothing changes: no version, no entry
    return absl::OkStatus();
  }
  const nlohmann::json data = log_data(caller, answer_data(event, row));
  const EventRecord answered = stores.events.set_answers_logged(
      event.id, with_row(event.answers, caller.email, std::move(row)), now, caller.email, data);
  event_to_proto(answered, caller, response);
  return absl::OkStatus();
}

grpc::Status EventServiceImpl::AnswerSlots(grpc::ServerContext* context,
                                           const v1::AnswerSlotsRequest* request, v1::Event* response) {
  // Under the row lock: the checks (open, before the deadline, current
  // slots, the caller's row as it is) hold until the answer commits, and
  // concurrent answers of other parties, agrees and slot changes queue up.
  return serve_on_event(context, "AnswerSlots", Atomicity::kTransaction, request->id(),
                        {.action = Action::kAnswer, .lock = RowLock::kForUpdate},
                        [&](Repositories& stores, const Caller& caller, const EventRecord& event) {
                          return answer_slots(stores, caller, event, *request, *response);
                        });
}

}  // namespace calndro::events
