#include "notify/deadline_mail.h"

#include "common/text/limits.h"
#include "common/text/time_slot.h"

namespace calndro::notify {
namespace {

// A count of a tally row is of at most every party of an event.
bool plausible_count(std::int32_t count) {
  return count >= 0 && count <= limits::kMaxParties;
}

void check_tally(const v1::DeadlineMail& wire, DeadlineRequest& out,
                 std::vector<FieldViolation>& violations) {
  if (wire.tally_size() > limits::kMaxSlots) {
    violations.push_back({"deadline.tally", "At most " + std::to_string(limits::kMaxSlots) + " rows."});
    return;
  }
  for (const v1::SlotTally& row : wire.tally()) {
    absl::StatusOr<Slot> slot = slot_from_proto(row.slot());
    if (!slot.ok()) {
      violations.push_back({"deadline.tally", std::string(slot.status().message())});
    } else if (!plausible_count(row.yes()) || !plausible_count(row.maybe()) || !plausible_count(row.no()) ||
               !plausible_count(row.pending())) {
      violations.push_back(
          {"deadline.tally", "Each count must be from 0 to " + std::to_string(limits::kMaxParties) + "."});
    } else {
      out.tally.push_back({{slot->begin, slot->duration}, row.yes(), row.maybe(), row.no(), row.pending()});
    }
  }
}

// The range and precision checks of a slot's begin.
void check_respond_by(const v1::DeadlineMail& wire, DeadlineRequest& out,
                      std::vector<FieldViolation>& violations) {
  if (!wire.has_respond_by()) {
    violations.push_back({"deadline.respond_by", "The deadline is required."});
    return;
  }
  calndro::common::v1::TimeSlot as_slot;
  *as_slot.mutable_begin() = wire.respond_by();
  as_slot.mutable_duration()->set_seconds(1);
  if (absl::StatusOr<Slot> checked = slot_from_proto(as_slot); !checked.ok()) {
    violations.push_back({"deadline.respond_by", std::string(checked.status().message())});
  } else {
    out.respond_by = checked->begin;
  }
}

nlohmann::json slot_pair(const SlotText& slot) {
  return {slot.begin.time_since_epoch().count(), slot.duration.count()};
}

SlotText slot_from_pair(const nlohmann::json& pair) {
  return {Instant(Micros(pair.at(0).get<std::int64_t>())), Micros(pair.at(1).get<std::int64_t>())};
}

// The summary's account of the answers: a line per slot and the best slot.
void append_tally(std::string& body, const DeadlineRequest& summary) {
  if (summary.tally.empty()) {
    body += "No time slots are proposed at the moment.\n\n";
    return;
  }
  body += "How the parties answered:\n\n";
  for (const SlotCount& row : summary.tally) {
    body += "  - " + describe_slot(row.slot.begin, row.slot.duration) + ": " + std::to_string(row.yes) +
            " yes, " + std::to_string(row.maybe) + " if need be, " + std::to_string(row.no) + " no, " +
            std::to_string(row.pending) + " pending\n";
  }
  body += "\n";
  if (summary.best_slot) {
    body += "Best slot: " + describe_slot(summary.best_slot->begin, summary.best_slot->duration) + "\n\n";
  } else {
    body += "No slot has a yes or an if-need-be answer.\n\n";
  }
}

}  // namespace

void check_deadline(const v1::QueueNotificationsRequest& request, MailRequest& out,
                    std::vector<FieldViolation>& violations) {
  if (!request.has_deadline()) {
    return;
  }
  const v1::DeadlineMail& wire = request.deadline();
  DeadlineRequest deadline;
  if (request.has_calendar()) {
    violations.push_back({"deadline", "A mail is a calendar mail or a deadline mail, not both."});
  }
  if (wire.kind() == v1::DeadlineMail::KIND_REMINDER) {
    deadline.kind = DeadlineRequest::Kind::kReminder;
  } else if (wire.kind() == v1::DeadlineMail::KIND_SUMMARY) {
    deadline.kind = DeadlineRequest::Kind::kSummary;
  } else {
    violations.push_back({"deadline.kind", "Must be KIND_REMINDER or KIND_SUMMARY."});
  }
  check_respond_by(wire, deadline, violations);
  if ((wire.tally_size() > 0 || wire.has_best_slot()) && wire.kind() != v1::DeadlineMail::KIND_SUMMARY) {
    violations.push_back({"deadline.tally", "Only a summary carries a tally and a best slot."});
  }
  check_tally(wire, deadline, violations);
  if (wire.has_best_slot()) {
    if (absl::StatusOr<Slot> best = slot_from_proto(wire.best_slot()); !best.ok()) {
      violations.push_back({"deadline.best_slot", std::string(best.status().message())});
    } else {
      deadline.best_slot = SlotText{best->begin, best->duration};
    }
  }
  out.deadline = std::move(deadline);
}

nlohmann::json encode_deadline_json(const DeadlineRequest& deadline) {
  nlohmann::json tally = nlohmann::json::array();
  for (const SlotCount& row : deadline.tally) {
    tally.push_back({row.slot.begin.time_since_epoch().count(), row.slot.duration.count(), row.yes, row.maybe,
                     row.no, row.pending});
  }
  return {{"kind", deadline.kind == DeadlineRequest::Kind::kReminder ? "reminder" : "summary"},
          {"respond_by", deadline.respond_by.time_since_epoch().count()},
          {"tally", tally},
          {"best_slot", deadline.best_slot ? slot_pair(*deadline.best_slot) : nlohmann::json(nullptr)}};
}

std::optional<DeadlineRequest> decode_deadline_json(const nlohmann::json& json) {
  DeadlineRequest deadline;
  const std::string kind = json.at("kind").get<std::string>();
  if (kind != "reminder" && kind != "summary") {
    return std::nullopt;
  }
  deadline.kind = kind == "reminder" ? DeadlineRequest::Kind::kReminder : DeadlineRequest::Kind::kSummary;
  deadline.respond_by = Instant(Micros(json.at("respond_by").get<std::int64_t>()));
  for (const auto& row : json.at("tally")) {
    deadline.tally.push_back({slot_from_pair(row), row.at(2).get<int>(), row.at(3).get<int>(),
                              row.at(4).get<int>(), row.at(5).get<int>()});
  }
  if (const auto& best = json.at("best_slot"); !best.is_null()) {
    deadline.best_slot = slot_from_pair(best);
  }
  return deadline;
}

std::string deadline_text(const MailSettings& settings, const MailRequest& request, std::string_view token,
                          Instant token_expires) {
  const DeadlineRequest& deadline = *request.deadline;
  const std::string title = display_title(request);
  const std::string respond_by = format_instant(deadline.respond_by);
  std::string body = "Hello,\n\n";
  if (deadline.kind == DeadlineRequest::Kind::kReminder) {
    body += sender_name(settings, request) + " asks you to answer for '" + title + "' by " + respond_by +
            " (UTC).\nYou have not answered yet: say for each time slot whether it suits you (yes, if need "
            "be, or no).\n\n";
    append_link(body, settings, request, token, token_expires);
    body += "\n";
    append_slots(body, request.slots);
  } else {
    body += "Answers for '" + title + "' closed at " + respond_by + " (UTC).\n\n";
    append_tally(body, deadline);
    body += "To agree on a time, open the event and agree on a slot there.\n\n";
    append_link(body, settings, request, token, token_expires);
  }
  body += "\n-- \ncalndro\n";
  return body;
}

}  // namespace calndro::notify
