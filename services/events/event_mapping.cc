#include "events/event_mapping.h"

#include <algorithm>
#include <utility>

#include "common/text/proto_time.h"
#include "common/text/time_format.h"
#include "common/text/time_slot.h"

namespace calndro::events {
namespace {

// Occurrence's values on the wire, in the enum's order.
constexpr v1::Occurrence kOccurrenceOnTheWire[] = {v1::OCCURRENCE_UPDATE, v1::OCCURRENCE_NOTIFY,
                                                   v1::OCCURRENCE_VIEW, v1::OCCURRENCE_AGREE,
                                                   v1::OCCURRENCE_ANSWER};

v1::Answer answer_to_proto(Answer answer) {
  return answer == Answer::kYes     ? v1::ANSWER_YES
         : answer == Answer::kMaybe ? v1::ANSWER_MAYBE
                                    : v1::ANSWER_NO;
}

// The answers rows `viewer` may see, in the order of the parties.
void answers_to_proto(const EventRecord& event, const Caller& viewer, v1::Event& out) {
  const bool only_own =
      event.hide_answers && decide(Action::kSeeHiddenAnswers, viewer.relation_to(&event)) != Decision::kAllow;
  for (const std::string& party : event.parties) {
    const auto row = event.answers.find(party);
    if (row == event.answers.end() || (only_own && party != viewer.email)) {
      continue;
    }
    v1::PartyAnswers& given = *out.add_answers();
    given.set_party(party);
    given.mutable_answers()->Resize(static_cast<int>(event.slots.size()), v1::ANSWER_UNSPECIFIED);
    // Both lists are in slot order: one walk.
    auto slot = event.slots.begin();
    for (const SlotAnswer& answer : row->second) {
      slot = std::lower_bound(slot, event.slots.end(), answer.slot);
      if (slot != event.slots.end() && *slot == answer.slot) {
        given.set_answers(static_cast<int>(slot - event.slots.begin()), answer_to_proto(answer.answer));
      }
    }
  }
}

// The tally and best slot (visible to all) and the deadline.
void poll_to_proto(const EventRecord& event, v1::Event& out) {
  const std::vector<TallyRow> rows = tally(event.slots, event.parties, event.answers);
  for (const TallyRow& row : rows) {
    v1::TallyRow& wire = *out.add_tally();
    slot_to_proto(row.slot, *wire.mutable_slot());
    wire.set_yes(row.yes);
    wire.set_maybe(row.maybe);
    wire.set_no(row.no);
    wire.set_pending(row.pending);
  }
  if (const auto best = best_slot(rows)) {
    slot_to_proto(*best, *out.mutable_best_slot());
  }
  if (event.respond_by) {
    *out.mutable_respond_by() = instant_to_proto(*event.respond_by);
  }
  *out.mutable_remind_before() = duration_to_proto(event.remind_before);
  out.set_hide_answers(event.hide_answers);
}

}  // namespace

void slots_to_proto(const std::vector<Slot>& slots,
                    google::protobuf::RepeatedPtrField<calndro::common::v1::TimeSlot>& out) {
  for (const auto& slot : slots) {
    slot_to_proto(slot, *out.Add());
  }
}

void event_to_proto(const EventRecord& event, const Caller& viewer, v1::Event& out) {
  out.Clear();
  out.set_id(event.id);
  out.set_title(event.title);
  out.set_version(event.version);
  for (const auto& party : event.parties) {
    out.add_parties(party);
  }
  slots_to_proto(event.slots, *out.mutable_slots());
  out.set_state(event.agreed_slot ? v1::EVENT_STATE_AGREED : v1::EVENT_STATE_OPEN);
  if (event.agreed_slot) {
    slot_to_proto(*event.agreed_slot, *out.mutable_agreed_slot());
  }
  out.set_calendar_sequence(event.calendar_sequence);
  out.set_creator(event.creator);
  answers_to_proto(event, viewer, out);
  poll_to_proto(event, out);
}

nlohmann::json slot_json(const Slot& slot) {
  return {{"begin", format_instant(slot.begin)}, {"duration", format_duration(slot.duration)}};
}

void json_to_value(const nlohmann::json& in, google::protobuf::Value& out) {
  if (in.is_null()) {
    out.set_null_value(google::protobuf::NULL_VALUE);
  } else if (in.is_boolean()) {
    out.set_bool_value(in.get<bool>());
  } else if (in.is_number()) {
    out.set_number_value(in.get<double>());
  } else if (in.is_string()) {
    out.set_string_value(in.get<std::string>());
  } else if (in.is_array()) {
    auto* list = out.mutable_list_value();
    for (const auto& item : in) {
      json_to_value(item, *list->add_values());
    }
  } else {
    json_to_struct(in, *out.mutable_struct_value());
  }
}

void json_to_struct(const nlohmann::json& object, google::protobuf::Struct& out) {
  auto& fields = *out.mutable_fields();
  for (const auto& [key, value] : object.items()) {
    json_to_value(value, fields[key]);
  }
}

void log_entry_to_proto(LogEntryRecord&& entry, v1::LogEntry& out) {
  out.set_id(entry.id);
  *out.mutable_when() = instant_to_proto(entry.when);
  out.set_occurrence(kOccurrenceOnTheWire[static_cast<int>(entry.occurrence)]);
  out.set_effector(std::move(entry.effector));
  slots_to_proto(entry.slots, *out.mutable_slots());
  if (entry.data.is_object()) {
    json_to_struct(entry.data, *out.mutable_data());  // built in place: a page has a hundred
  }
  if (entry.link) {
    out.set_seq(entry.link->seq);
    out.set_prev(std::move(entry.link->prev));
    out.set_hash(std::move(entry.link->hash));
  }
}

void log_head_to_proto(const audit::LogHead& head, v1::LogHead& out) {
  out.set_seq(head.seq);
  out.set_hash(head.hash);
  *out.mutable_signed_at() = instant_to_proto(head.signed_at);
  out.set_signature(head.signature);
}

nlohmann::json log_data(const Caller& caller, nlohmann::json data) {
  if (caller.uses_email_token()) {
    data["token"] = caller.token_fingerprint;
  }
  return data;
}

}  // namespace calndro::events
