#pragma once

#include <nlohmann/json.hpp>

#include "calndro/events/v1/events.pb.h"
#include "gateway/api/json_mapping.h"
#include "gateway/api/json_writer.h"

// JSON <-> proto for SPEC §9: the answers, the tally, the best slot and the
// deadline of an event, the body of PUT /ID/answers/, and the deadline's
// fields of POST / and PATCH /ID/. As json_mapping.h, only translation is
// checked here; which slots and deadlines are acceptable is the event
// service's to say.
namespace calndro::gateway {

// "respond_by", "remind_before", "hide_answers", "answers", "tally" and
// "best_slot", as members of the event object being written.
void write_poll(JsonWriter& writer, const v1::Event& event);

// {"answers": [{"slot": {"begin", "duration"}, "answer": "yes"|"maybe"|"no"}, ...]}.
void answers_request_from_json(const nlohmann::json& body, v1::AnswerSlotsRequest& out, FieldErrors& errors);

// `respond_by` (an instant, or null for none), `remind_before` (a duration,
// or null for the default) and `hide_answers` (a boolean, or null) of a new event.
void create_poll_from_json(const nlohmann::json& body, v1::CreateEventRequest& out, FieldErrors& errors);

// `respond_by` (an instant, or null: cleared) and `remind_before` (a
// duration) of a PATCH; true when the body holds either. `hide_answers` is
// ignored, as `parties` is: both are fixed at creation.
bool update_poll_from_json(const nlohmann::json& body, v1::UpdateEventRequest& out, FieldErrors& errors);

}  // namespace calndro::gateway
