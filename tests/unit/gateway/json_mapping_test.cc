#include "gateway/api/json_mapping.h"

#include <gtest/gtest.h>

namespace calndro::gateway {
namespace {

using nlohmann::json;

json slots_json(const google::protobuf::RepeatedPtrField<calndro::common::v1::TimeSlot>& slots) {
  std::string out;
  JsonWriter writer(out);
  write_slots(writer, slots);
  return json::parse(out);
}

v1::Event sample_event() {
  v1::Event event;
  event.set_id(7);
  event.set_title("cybes");
  event.add_parties("you@here.net");
  event.add_parties("they@thar.net");
  auto* slot = event.add_slots();
  slot->mutable_begin()->set_seconds(1667265082);  // 2022-11-01T01:11:22Z
  slot->mutable_begin()->set_nanos(20'000'000);
  slot->mutable_duration()->set_seconds(600);
  return event;
}

TEST(JsonMapping, EventHasSpecShape) {
  json out = json::parse(event_body(sample_event(), "http://HOST"));
  EXPECT_EQ(out, json::parse(R"({"id": 7, "url": "http://HOST/7/", "log_url": "http://HOST/7/log/",
      "notify_url": "http://HOST/7/notify/", "title": "cybes",
      "parties": ["you@here.net", "they@thar.net"],
      "slots": [{"begin": "2022-11-01T01:11:22.020000Z", "duration": "00:10:00"}],
      "state": "open", "agreed_slot": null, "ics_url": "http://HOST/7/event.ics",
      "respond_by": null, "remind_before": "00:00:00", "hide_answers": false,
      "answers": {}, "tally": [], "best_slot": null})"));
}

TEST(JsonMapping, AnAgreedEventShowsItsSlot) {
  v1::Event event = sample_event();
  event.set_state(v1::EVENT_STATE_AGREED);
  *event.mutable_agreed_slot() = event.slots(0);
  json out = json::parse(event_body(event, "http://HOST"));
  EXPECT_EQ(out["state"], "agreed");
  EXPECT_EQ(out["agreed_slot"],
            json::parse(R"({"begin": "2022-11-01T01:11:22.020000Z", "duration": "00:10:00"})"));
}

TEST(JsonMapping, AgreeNeedsOneSlot) {
  v1::AgreeEventRequest request;
  FieldErrors errors;
  agree_request_from_json(
      json::parse(R"({"slot": {"begin": "2022-11-01T01:11:22.02", "duration": "00:10"}})"), request, errors);
  EXPECT_TRUE(errors.empty()) << errors.to_json();
  EXPECT_EQ(request.slot().begin().seconds(), 1667265082);
  EXPECT_EQ(request.slot().begin().nanos(), 20'000'000);
  EXPECT_EQ(request.slot().duration().seconds(), 600);
  for (const char* body : {R"({})", R"({"slot": null})", R"({"slot": [1]})", R"({"slot": {"begin": "x"}})",
                           R"({"slots": [{"begin": "2022-11-01T01:11:22Z", "duration": "00:10"}]})"}) {
    FieldErrors refused;
    v1::AgreeEventRequest ignored;
    agree_request_from_json(json::parse(body), ignored, refused);
    ASSERT_FALSE(refused.empty()) << body;
    EXPECT_EQ(refused.to_json().size(), 1u) << body;
    EXPECT_TRUE(refused.to_json().contains("slot")) << body << ": " << refused.to_json();
  }
}

TEST(JsonMapping, TimestampRoundTripKeepsMicrosecondsBeforeEpoch) {
  const Instant instant{Micros(-1'500'000)};
  auto timestamp = instant_to_proto(instant);
  EXPECT_EQ(timestamp.seconds(), -2);
  EXPECT_EQ(timestamp.nanos(), 500'000'000);
  EXPECT_EQ(instant_from_proto(timestamp), instant);
  EXPECT_EQ(duration_from_proto(duration_to_proto(Micros(90'000'001))), Micros(90'000'001));
}

// Every spelling of the same instant and length maps to the same proto.
TEST(JsonMapping, TimeSpellingsAreTheSameSlot) {
  const char* spellings[][2] = {
      {"2022-11-01T01:11:22.020000Z", "00:10:00"},
      {"2022-11-01T01:11:22.02", "00:10"},
      {"2022-11-01T03:11:22.02+02", "PT10M"},
      {"2022-11-01T03:11:22.02+0200", "0 00:10:00"},
      {"2022-11-01T03:11:22.02+02:00", "00:10:00.000000"},
      {"2022-10-31T23:11:22.020-02:00", "PT600S"},
  };
  for (const auto& spelling : spellings) {
    v1::CreateEventRequest request;
    FieldErrors errors;
    json body = {{"slots", json::array({{{"begin", spelling[0]}, {"duration", spelling[1]}}})}};
    create_request_from_json(body, request, errors);
    ASSERT_TRUE(errors.empty()) << spelling[0] << " " << spelling[1] << ": " << errors.to_json().dump();
    ASSERT_EQ(request.slots_size(), 1);
    EXPECT_EQ(request.slots(0).begin().seconds(), 1667265082) << spelling[0];
    EXPECT_EQ(request.slots(0).begin().nanos(), 20'000'000) << spelling[0];
    EXPECT_EQ(request.slots(0).duration().seconds(), 600) << spelling[1];
    EXPECT_EQ(request.slots(0).duration().nanos(), 0) << spelling[1];
    EXPECT_EQ(slots_json(request.slots()),
              json::parse(R"([{"begin": "2022-11-01T01:11:22.020000Z", "duration": "00:10:00"}])"));
  }
}

TEST(JsonMapping, SlotErrorsNameSlotAndField) {
  v1::CreateEventRequest request;
  FieldErrors errors;
  json body = json::parse(R"({"slots": [
      {"begin": "2022-11-01T01:00Z", "duration": "01:00"},
      {"begin": "2021-02-30T10:00Z", "duration": "00:30"},
      "nope",
      {"begin": 5},
      {"begin": "2022-11-01T01:00Z", "duration": "garbage"}]})");
  create_request_from_json(body, request, errors);
  const json& slots = errors.to_json()["slots"];
  ASSERT_EQ(slots.size(), 5u) << slots.dump();
  const auto refused = parse_instant("2021-02-30T10:00Z");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(slots[0], "Slot 2: begin: " + std::string(refused.status().message()));
  EXPECT_EQ(slots[1].get<std::string>().rfind("Slot 3: ", 0), 0u);
  EXPECT_EQ(slots[2], "Slot 4: begin: Not a valid string.");
  EXPECT_EQ(slots[3], "Slot 4: duration: This field is required.");
  EXPECT_EQ(slots[4].get<std::string>().rfind("Slot 5: duration: ", 0), 0u);
  EXPECT_FALSE(errors.to_json().contains("parties"));
}

TEST(JsonMapping, AllFieldErrorsAreCollected) {
  v1::CreateEventRequest request;
  FieldErrors errors;
  create_request_from_json(json::parse(R"({"parties": ["a@b.c", 3], "slots": {}, "title": 12})"), request,
                           errors);
  EXPECT_EQ(errors.to_json(), json::parse(R"({"parties": ["Item 2: Not a valid string."],
      "slots": ["Expected a list of slots, each {\"begin\": ..., \"duration\": ...}."],
      "title": ["Not a valid string."]})"));

  FieldErrors more;
  create_request_from_json(json::parse(R"({"parties": "a@b.c", "slots": []})"), request, more);
  EXPECT_EQ(more.to_json(), json::parse(R"({"parties": ["Expected a list of items."]})"));
}

TEST(JsonMapping, CreateWithoutSlotsIsAFieldError) {
  v1::CreateEventRequest request;
  FieldErrors errors;
  create_request_from_json(json::parse(R"({"parties": ["a@b.c"], "title": "t"})"), request, errors);
  EXPECT_EQ(errors.to_json(), json::parse(R"({"slots": ["This field is required."]})"));

  FieldErrors empty_is_fine;
  create_request_from_json(json::parse(R"({"parties": ["a@b.c"], "slots": []})"), request, empty_is_fine);
  EXPECT_TRUE(empty_is_fine.empty()) << empty_is_fine.to_json().dump();

  FieldErrors null_is_not_a_list;
  create_request_from_json(json::parse(R"({"parties": ["a@b.c"], "slots": null})"), request,
                           null_is_not_a_list);
  EXPECT_TRUE(null_is_not_a_list.to_json().contains("slots"));
}

TEST(JsonMapping, CreateMapsFields) {
  v1::CreateEventRequest request;
  FieldErrors errors;
  create_request_from_json(
      json::parse(R"({"title": "t", "parties": ["a@b.c", "d@e.f"], "slots": [], "unknown": 1})"), request,
      errors);
  ASSERT_TRUE(errors.empty());
  EXPECT_EQ(request.title(), "t");
  ASSERT_EQ(request.parties_size(), 2);
  EXPECT_EQ(request.parties(1), "d@e.f");
  EXPECT_EQ(request.slots_size(), 0);
}

TEST(JsonMapping, UpdateSetsOnlyWhatIsPresent) {
  {
    v1::UpdateEventRequest request;
    FieldErrors errors;
    EXPECT_TRUE(
        update_request_from_json(json::parse(R"({"slots": [], "parties": ["x@y.z"]})"), request, errors));
    EXPECT_TRUE(errors.empty());
    EXPECT_TRUE(request.has_slots());
    EXPECT_EQ(request.slots().slots_size(), 0);
    EXPECT_FALSE(request.has_title());
  }
  {
    v1::UpdateEventRequest request;
    FieldErrors errors;
    EXPECT_TRUE(update_request_from_json(json::parse(R"({"title": ""})"), request, errors));
    EXPECT_TRUE(request.has_title());
    EXPECT_FALSE(request.has_slots());
  }
  {
    v1::UpdateEventRequest request;
    FieldErrors errors;
    EXPECT_FALSE(update_request_from_json(json::parse(R"({"parties": ["x@y.z"]})"), request, errors));
    EXPECT_TRUE(errors.empty());
  }
  {
    v1::UpdateEventRequest request;
    FieldErrors errors;
    update_request_from_json(json::parse(R"({"title": null})"), request, errors);
    EXPECT_EQ(errors.to_json(), json::parse(R"({"title": ["Not a valid string."]})"));
  }
}

TEST(JsonMapping, NotifyChecksTypes) {
  v1::NotifyPartiesRequest request;
  FieldErrors errors;
  notify_request_from_json(
      json::parse(R"({"parties": ["a@b.c"], "slots": [], "sender": 1, "invitation": "yes"})"), request,
      errors);
  EXPECT_EQ(
      errors.to_json(),
      json::parse(R"({"sender": ["Not a valid string."], "invitation": ["Must be a valid boolean."]})"));

  v1::NotifyPartiesRequest good;
  FieldErrors none;
  notify_request_from_json(json::parse(R"({"parties": ["a@b.c"], "sender": "s@b.c", "invitation": true})"),
                           good, none);
  EXPECT_TRUE(none.empty());
  EXPECT_TRUE(good.has_sender());
  EXPECT_EQ(good.sender(), "s@b.c");
  EXPECT_TRUE(good.invitation());
}

TEST(JsonMapping, ApiTokenNeedsStrings) {
  v1::CreateApiTokenRequest request;
  FieldErrors errors;
  api_token_request_from_json(json::parse(R"({"username": 3})"), request, errors);
  EXPECT_EQ(errors.to_json(),
            json::parse(R"({"username": ["Not a valid string."], "password": ["This field is required."]})"));
}

TEST(JsonMapping, BodyParsing) {
  std::string error;
  EXPECT_EQ(parse_json_object("", error), json::object());
  EXPECT_EQ(parse_json_object("  \n", error), json::object());
  EXPECT_EQ(parse_json_object(R"({"a": "[{"})", error), json::parse(R"({"a": "[{"})"));
  EXPECT_FALSE(parse_json_object("[1]", error).has_value());
  EXPECT_FALSE(error.empty());
  error.clear();
  EXPECT_FALSE(parse_json_object("{nope", error).has_value());
  EXPECT_FALSE(error.empty());
  EXPECT_FALSE(parse_json_object("\"x\"", error).has_value());
  EXPECT_FALSE(parse_json_object(std::string(100000, '['), error).has_value());
  EXPECT_FALSE(parse_json_object("{\"a\": \"\xff\"}", error).has_value());
}

TEST(JsonMapping, ASealedEntryCarriesItsLinksAndTheLogItsSignedHead) {
  v1::EventLog log;
  auto* entry = log.add_entries();
  entry->set_id(3);
  entry->set_occurrence(v1::OCCURRENCE_VIEW);
  entry->set_seq(1);
  entry->set_prev(std::string(64, '0'));
  entry->set_hash(std::string(64, 'a'));
  entry->mutable_data()->mutable_fields()->operator[]("ratio").set_number_value(0.5);
  log.mutable_head()->set_seq(1);
  log.mutable_head()->set_hash(std::string(64, 'a'));
  log.mutable_head()->mutable_signed_at()->set_seconds(1615473240);
  log.mutable_head()->set_signature("c2ln");
  const json body = json::parse(event_log_body(log, 7, "https://x.example"));
  EXPECT_EQ(body["entries"][0]["seq"], 1);
  EXPECT_EQ(body["entries"][0]["prev"], std::string(64, '0'));
  EXPECT_EQ(body["entries"][0]["hash"], std::string(64, 'a'));
  EXPECT_EQ(body["entries"][0]["data"]["ratio"], 0.5);  // a fraction stays one
  EXPECT_EQ(body["head"], json::parse(R"({"seq": 1, "hash": ")" + std::string(64, 'a') +
                                      R"(", "signed_at": "2021-03-11T14:34:00Z", "signature": "c2ln"})"));
}

TEST(JsonMapping, LogEntriesAndNotifyResponse) {
  v1::EventLog log;
  log.set_event_id(7);
  log.add_parties("you@here.net");
  auto* entry = log.add_entries();
  entry->set_id(3);
  entry->mutable_when()->set_seconds(1615473240);  // 2021-03-11T14:34:00Z
  entry->set_occurrence(v1::OCCURRENCE_NOTIFY);
  entry->set_effector("you@here.net");
  *entry->add_slots() = sample_event().slots(0);
  auto& fields = *entry->mutable_data()->mutable_fields();
  fields["recipient"].set_string_value("they@thar.net");
  fields["count"].set_number_value(2);
  fields["flag"].set_bool_value(true);
  fields["nested"].mutable_struct_value()->mutable_fields()->operator[]("k").set_null_value({});
  EXPECT_EQ(json::parse(event_log_body(log, 7, "https://x.example")), json::parse(R"({
      "event": "https://x.example/7/", "parties": ["you@here.net"],
      "entries": [{"id": 3, "when": "2021-03-11T14:34:00Z", "occurrence": "NOTIFY", "effector": "you@here.net",
                   "slots": [{"begin": "2022-11-01T01:11:22.020000Z", "duration": "00:10:00"}],
                   "data": {"recipient": "they@thar.net", "count": 2, "flag": true, "nested": {"k": null}},
                   "seq": null, "prev": null, "hash": null}],
      "head": null})"));
  // A whole number in data is written as an integer (SPEC §10 hashes integers).
  EXPECT_NE(event_log_body(log, 7, "https://x.example").find(R"("count":2,)"), std::string::npos);

  v1::NotifyPartiesResponse response;
  response.add_parties("they@thar.net");
  response.set_sender("you@here.net");
  EXPECT_EQ(json::parse(notify_response_body(response, 7, "http://h")), json::parse(R"({
      "parties": ["they@thar.net"], "slots": [], "sender": "you@here.net",
      "event_url": "http://h/7/", "log_url": "http://h/7/log/", "notify_url": "http://h/7/notify/"})"));
}

TEST(JsonMapping, DurationsPastADay) {
  google::protobuf::RepeatedPtrField<calndro::common::v1::TimeSlot> slots;
  FieldErrors errors;
  parse_slots(json::parse(R"([{"begin": "2021-03-11 14:34", "duration": "1 02:00:00"}])"), &slots, errors);
  ASSERT_TRUE(errors.empty()) << errors.to_json().dump();
  EXPECT_EQ(slots_json(slots),
            json::parse(R"([{"begin": "2021-03-11T14:34:00Z", "duration": "1 02:00:00"}])"));
}

// A page of events: one array, SPEC's shape for each, in order.
TEST(JsonMapping, EventListIsAnArrayOfEvents) {
  google::protobuf::RepeatedPtrField<v1::Event> events;
  EXPECT_EQ(event_list_body(events, "http://HOST"), "[]");
  *events.Add() = sample_event();
  *events.Add() = sample_event();
  events.Mutable(1)->set_id(8);
  events.Mutable(1)->clear_slots();
  const json page = json::parse(event_list_body(events, "http://HOST"));
  ASSERT_EQ(page.size(), 2u) << page.dump();
  EXPECT_EQ(page[0], json::parse(event_body(sample_event(), "http://HOST")));
  EXPECT_EQ(page[1]["url"], "http://HOST/8/");
  EXPECT_EQ(page[1]["slots"], json::array());
}

// The writer places commas and colons; strings (keys too) are escaped by
// nlohmann, and invalid UTF-8 is replaced instead of thrown.
TEST(JsonWriter, EscapesAndSeparates) {
  std::string out;
  JsonWriter writer(out);
  writer.begin_object();
  writer.key("a\"b").string("line\nbreak \"quoted\" \x01");
  writer.key("n").number(-42);
  writer.key("list").begin_array();
  writer.begin_object().end_object();
  writer.begin_array().end_array();
  writer.value(nullptr).value(2.5).value(true);
  writer.plain_string([](std::string& text) { text += "00:10:00"; });
  writer.end_array();
  writer.key("bad").string("\xff ok");
  writer.end_object();
  EXPECT_EQ(out,
            "{\"a\\\"b\":\"line\\nbreak \\\"quoted\\\" \\u0001\",\"n\":-42,"
            "\"list\":[{},[],null,2.5,true,\"00:10:00\"],\"bad\":\"\xef\xbf\xbd ok\"}");
  EXPECT_TRUE(json::accept(out));
}

// Plain ASCII takes a shortcut past the serializer: every byte, alone and
// among plain text, comes out as nlohmann's dump() writes it.
TEST(JsonWriter, WritesEveryByteAsNlohmannDoes) {
  for (int byte = 0; byte < 256; ++byte) {
    for (const std::string& text :
         {std::string(1, static_cast<char>(byte)), "ab" + std::string(1, static_cast<char>(byte)) + "cd"}) {
      std::string out;
      JsonWriter writer(out);
      writer.string(text);
      EXPECT_EQ(out, json(text).dump(-1, ' ', false, json::error_handler_t::replace)) << "byte " << byte;
    }
  }
  std::string out;
  JsonWriter writer(out);
  writer.begin_object().key("url").string("http://localhost:9000/7/event.ics").end_object();
  EXPECT_EQ(out, "{\"url\":\"http://localhost:9000/7/event.ics\"}");
}

}  // namespace
}  // namespace calndro::gateway
