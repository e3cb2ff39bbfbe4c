#pragma once

#include <google/protobuf/duration.pb.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/timestamp.pb.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "calndro/events/v1/events.pb.h"
#include "common/text/proto_time.h"
#include "common/text/time_format.h"
#include "gateway/api/json_writer.h"

// JSON <-> proto for the REST API of SPEC §3. Only pure translation is
// checked here (types, time spellings); semantic rules (emails, limits,
// membership) are the event service's.
namespace calndro::gateway {

namespace v1 = calndro::events::v1;

// SPEC's 400 body for field errors: {"field": ["message", ...]}.
class FieldErrors {
 public:
  void add(const std::string& field, std::string message);
  bool empty() const { return errors_.empty(); }
  const nlohmann::json& to_json() const { return errors_; }

 private:
  nlohmann::json errors_ = nlohmann::json::object();
};

// An empty body is {}. Returns nullopt and sets `error` when the body is not
// JSON, is nested absurdly deep, or is not an object.
std::optional<nlohmann::json> parse_json_object(std::string_view body, std::string& error);

// Proto -> JSON response bodies (SPEC §3 shapes). URLs are built on `base`,
// "http://host:port" (no trailing slash).
std::string event_body(const v1::Event& event, const std::string& base);
std::string event_list_body(const google::protobuf::RepeatedPtrField<v1::Event>& events,
                            const std::string& base);
std::string event_log_body(const v1::EventLog& log, int64_t event_id, const std::string& base);
std::string notify_response_body(const v1::NotifyPartiesResponse& response, int64_t event_id,
                                 const std::string& base);
// The pieces, for the bodies above and their tests; `scratch` is reused
// for the URLs.
void write_slots(JsonWriter& writer,
                 const google::protobuf::RepeatedPtrField<calndro::common::v1::TimeSlot>& slots);
void write_event(JsonWriter& writer, const v1::Event& event, const std::string& base, std::string& scratch);
void write_slot(JsonWriter& writer, const calndro::common::v1::TimeSlot& slot);
// A slot, or null.
void write_optional_slot(JsonWriter& writer, const calndro::common::v1::TimeSlot* slot);
// SPEC §4 output spellings, written in place (no string of their own).
void write_instant(JsonWriter& writer, const google::protobuf::Timestamp& at);
void write_duration(JsonWriter& writer, const google::protobuf::Duration& length);

// JSON -> proto. Field errors are added to `errors`; `out` is only
// meaningful when `errors` stays empty.
void parse_slots(const nlohmann::json& value,
                 google::protobuf::RepeatedPtrField<calndro::common::v1::TimeSlot>* out, FieldErrors& errors);
// One slot object into `out`; false (errors under `field`, each message
// prefixed with `prefix`) when it is not one.
bool parse_slot(const nlohmann::json& item, const std::string& field, const std::string& prefix,
                calndro::common::v1::TimeSlot& out, FieldErrors& errors);
void create_request_from_json(const nlohmann::json& body, v1::CreateEventRequest& out, FieldErrors& errors);
// Returns false when the body holds none of `slots`, `title`, `respond_by`
// and `remind_before`.
bool update_request_from_json(const nlohmann::json& body, v1::UpdateEventRequest& out, FieldErrors& errors);
// {"slot": {"begin", "duration"}}: the slot to agree on (required).
void agree_request_from_json(const nlohmann::json& body, v1::AgreeEventRequest& out, FieldErrors& errors);
void notify_request_from_json(const nlohmann::json& body, v1::NotifyPartiesRequest& out, FieldErrors& errors);
void api_token_request_from_json(const nlohmann::json& body, v1::CreateApiTokenRequest& out,
                                 FieldErrors& errors);

// Serialises a response body; invalid UTF-8 is replaced rather than thrown.
std::string dump(const nlohmann::json& value);

}  // namespace calndro::gateway
