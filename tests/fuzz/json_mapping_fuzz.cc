// The gateway's JSON -> proto mapping on arbitrary request bodies. Whatever
// maps without field errors serialises to a message that parses back the
// same (what gRPC does next), its slots are in range and spell back to the
// same instants, and the response body written from it is JSON that says
// the same thing.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "gateway/api/json_mapping.h"
#include "gateway/api/poll_mapping.h"

using namespace calndro;
using namespace calndro::gateway;

namespace {

template <typename Message>
void check_round_trip(const Message& message) {
  std::string wire;
  FUZZ_CHECK(message.SerializeToString(&wire));
  Message parsed;
  FUZZ_CHECK(parsed.ParseFromString(wire));
  FUZZ_CHECK(parsed.SerializeAsString() == wire);
}

void check_slot(const calndro::common::v1::TimeSlot& slot) {
  const Instant begin = instant_from_proto(slot.begin());
  const Micros duration = duration_from_proto(slot.duration());
  FUZZ_CHECK(duration > Micros::zero() && duration <= kMaxSlotDuration);
  const auto again = parse_instant(format_instant(begin));
  FUZZ_CHECK(again.ok() && *again == begin);
  const auto duration_again = parse_duration(format_duration(duration));
  FUZZ_CHECK(duration_again.ok() && *duration_again == duration);
  FUZZ_CHECK(instant_to_proto(begin).SerializeAsString() == slot.begin().SerializeAsString());
  FUZZ_CHECK(duration_to_proto(duration).SerializeAsString() == slot.duration().SerializeAsString());
}

void check_slots(const google::protobuf::RepeatedPtrField<calndro::common::v1::TimeSlot>& slots) {
  for (const auto& slot : slots) {
    check_slot(slot);
  }
}

void check_errors(const FieldErrors& errors) {
  std::string error;
  const auto reparsed = parse_json_object(dump(errors.to_json()), error);
  FUZZ_CHECK(reparsed.has_value());
}

// The response body for an event holding what the request asked for.
void check_event_body(v1::CreateEventRequest request) {
  // The event service's default lead of the reminder, which every event shows.
  if (!request.has_remind_before()) {
    request.mutable_remind_before()->set_seconds(24 * 3600);
  }
  v1::Event event;
  event.set_id(7);
  event.set_title(request.title());
  *event.mutable_parties() = request.parties();
  *event.mutable_slots() = request.slots();
  if (request.has_respond_by()) {
    *event.mutable_respond_by() = request.respond_by();
  }
  *event.mutable_remind_before() = request.remind_before();
  event.set_hide_answers(request.hide_answers());
  std::string error;
  const auto body = parse_json_object(event_body(event, "http://localhost:9000"), error);
  FUZZ_CHECK(body.has_value());
  FUZZ_CHECK((*body)["title"] == request.title());
  FUZZ_CHECK((*body)["parties"].size() == static_cast<std::size_t>(request.parties_size()));
  for (int i = 0; i < request.parties_size(); ++i) {
    FUZZ_CHECK((*body)["parties"][i] == request.parties(i));
  }
  FUZZ_CHECK((*body)["slots"].size() == static_cast<std::size_t>(request.slots_size()));
  // The body's slots, read back as a request, are the same slots.
  v1::CreateEventRequest again;
  FieldErrors errors;
  create_request_from_json(*body, again, errors);
  FUZZ_CHECK(errors.empty());
  FUZZ_CHECK(again.SerializeAsString() == request.SerializeAsString());
}

// Maps `body` with `from_json`; a request that maps without field errors
// must round-trip through its serialization.
template <typename Request, typename FromJson>
std::optional<Request> mapped(const nlohmann::json& body, FromJson from_json) {
  Request request;
  FieldErrors errors;
  from_json(body, request, errors);
  check_errors(errors);
  if (!errors.empty()) {
    return std::nullopt;
  }
  check_round_trip(request);
  return request;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string error;
  const auto body = parse_json_object(text, error);
  if (!body) {
    FUZZ_CHECK(!error.empty());
    return 0;
  }
  FUZZ_CHECK(body->is_object());

  if (const auto create = mapped<v1::CreateEventRequest>(*body, create_request_from_json)) {
    check_slots(create->slots());
    check_event_body(*create);
  }
  if (const auto update = mapped<v1::UpdateEventRequest>(*body, update_request_from_json)) {
    check_slots(update->slots().slots());
  }
  if (const auto notify = mapped<v1::NotifyPartiesRequest>(*body, notify_request_from_json)) {
    check_slots(notify->slots());
  }
  if (const auto answers = mapped<v1::AnswerSlotsRequest>(*body, answers_request_from_json)) {
    for (const auto& answer : answers->answers()) {
      check_slot(answer.slot());
      FUZZ_CHECK(answer.answer() != v1::ANSWER_UNSPECIFIED);
    }
  }
  (void)mapped<v1::CreateApiTokenRequest>(*body, api_token_request_from_json);
  return 0;
}
