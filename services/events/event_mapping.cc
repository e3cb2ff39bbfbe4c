#include "events/event_mapping.h"

#include "common/text/proto_time.h"
#include "common/text/time_format.h"
#include "common/text/time_slot.h"

namespace calndro::events {
namespace {

// Occurrence's values on the wire, in the enum's order.
constexpr v1::Occurrence kOccurrenceOnTheWire[] = {v1::OCCURRENCE_UPDATE, v1::OCCURRENCE_NOTIFY,
                                                   v1::OCCURRENCE_VIEW, v1::OCCURRENCE_AGREE};

}  // namespace

void slots_to_proto(const std::vector<Slot>& slots,
                    google::protobuf::RepeatedPtrField<calndro::common::v1::TimeSlot>& out) {
  for (const auto& slot : slots) {
    slot_to_proto(slot, *out.Add());
  }
}

void event_to_proto(const EventRecord& event, v1::Event& out) {
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
    auto* fields = out.mutable_struct_value()->mutable_fields();
    for (const auto& [key, value] : in.items()) {
      json_to_value(value, (*fields)[key]);
    }
  }
}

void log_entry_to_proto(const LogEntryRecord& entry, v1::LogEntry& out) {
  out.set_id(entry.id);
  *out.mutable_when() = instant_to_proto(entry.when);
  out.set_occurrence(kOccurrenceOnTheWire[static_cast<int>(entry.occurrence)]);
  out.set_effector(entry.effector);
  slots_to_proto(entry.slots, *out.mutable_slots());
  google::protobuf::Value data;
  json_to_value(entry.data, data);
  *out.mutable_data() = data.struct_value();
}

nlohmann::json log_data(const Caller& caller, nlohmann::json data) {
  if (caller.uses_email_token()) {
    data["token"] = caller.token_fingerprint;
  }
  return data;
}

}  // namespace calndro::events
