#pragma once

#include <google/protobuf/repeated_field.h>
#include <google/protobuf/struct.pb.h>

#include <nlohmann/json.hpp>
#include <vector>

#include "calndro/common/v1/time_slot.pb.h"
#include "calndro/events/v1/events.pb.h"
#include "events/authenticator.h"
#include "events/stores.h"

// The event service's records on the wire: events, slots and audit-log
// entries as calndro.events.v1 messages, and what a log entry's `data` holds.
namespace calndro::events {

void slots_to_proto(const std::vector<Slot>& slots,
                    google::protobuf::RepeatedPtrField<calndro::common::v1::TimeSlot>& out);

// The event as `viewer` sees it: every party's answers, or, when the event
// hides them from the viewer (SPEC §9 hide_answers), the viewer's own only.
void event_to_proto(const EventRecord& event, const Caller& viewer, v1::Event& out);

// A slot in a log entry's data, spelled as the REST API spells slots.
nlohmann::json slot_json(const Slot& slot);

// nlohmann → google.protobuf.Value, for the log entries' `data`.
void json_to_value(const nlohmann::json& in, google::protobuf::Value& out);
// The members of a JSON object as a Struct's fields.
void json_to_struct(const nlohmann::json& object, google::protobuf::Struct& out);

// Takes the entry's strings (a page has hundreds: effector, prev, hash).
void log_entry_to_proto(LogEntryRecord&& entry, v1::LogEntry& out);
void log_head_to_proto(const audit::LogHead& head, v1::LogHead& out);

// What a log entry's `data` holds: the action's own fields, and for a caller
// with an email token that token's fingerprint (never the token).
nlohmann::json log_data(const Caller& caller, nlohmann::json data);

}  // namespace calndro::events
