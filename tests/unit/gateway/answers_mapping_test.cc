// SPEC §9 in the gateway: the route of PUT /ID/answers/, the event's
// answers, tally, best slot and deadline as JSON, the answers body and the
// deadline's fields of create and PATCH, and the 409 of closed answers.
#include <gtest/gtest.h>

#include "common/grpc/rich_status.h"
#include "gateway/api/handlers.h"
#include "gateway/api/http_errors.h"
#include "gateway/api/json_mapping.h"
#include "gateway/api/poll_mapping.h"
#include "gateway/api/route_table.h"

namespace calndro::gateway {
namespace {

using nlohmann::json;
using Kind = RouteMatch::Kind;

void set_slot(calndro::common::v1::TimeSlot& slot, std::int64_t seconds, std::int64_t length) {
  slot.mutable_begin()->set_seconds(seconds);
  slot.mutable_duration()->set_seconds(length);
}

// Two parties, two slots (2022-11-01T01:11:22Z for 10 minutes, an hour
// later for an hour).
v1::Event polled_event() {
  v1::Event event;
  event.set_id(7);
  event.set_title("cybes");
  event.add_parties("you@here.net");
  event.add_parties("they@thar.net");
  set_slot(*event.add_slots(), 1667265082, 600);
  set_slot(*event.add_slots(), 1667268682, 3600);
  return event;
}

TEST(AnswersRoute, PutOnTheAnswersOfAnEventOnly) {
  const RouteMatch found = match_route("PUT", "/7/answers/");
  EXPECT_EQ(found.kind, Kind::kFound);
  EXPECT_EQ(found.route, Route::kAnswers);
  EXPECT_EQ(found.id, 7);
  ASSERT_NE(find_handler(Route::kAnswers, "PUT"), nullptr);
  EXPECT_EQ(find_handler(Route::kAnswers, "PUT")->needs, Needs::kCall);
  for (const char* method : {"GET", "POST", "PATCH", "DELETE", "HEAD"}) {
    const RouteMatch refused = match_route(method, "/7/answers/");
    EXPECT_EQ(refused.kind, Kind::kMethodNotAllowed) << method;
    EXPECT_EQ(refused.allow, "PUT") << method;
  }
  EXPECT_EQ(match_route("PUT", "/7/answers").kind, Kind::kRedirect);
  EXPECT_EQ(match_route("PUT", "/7/answers").redirect_path, "/7/answers/");
  EXPECT_EQ(match_route("GET", "/0/answers").redirect_path, "/0/answers/");
  for (const char* path : {"/0/answers/", "/7/answers/x", "/7/answer/", "/7/Answers/"}) {
    EXPECT_EQ(match_route("PUT", path).kind, Kind::kNotFound) << path;
  }
  EXPECT_EQ(route_label(found), "/{id}/answers/");
}

TEST(PollJson, AnEventWithoutAnswersShowsAnEmptyPoll) {
  v1::Event event = polled_event();
  set_slot(*event.add_tally()->mutable_slot(), 1667265082, 600);
  event.mutable_tally(0)->set_pending(2);
  event.mutable_remind_before()->set_seconds(24 * 3600);
  const json out = json::parse(event_body(event, "http://HOST"));
  EXPECT_EQ(out["respond_by"], nullptr);
  EXPECT_EQ(out["remind_before"], "1 00:00:00");
  EXPECT_EQ(out["hide_answers"], false);
  EXPECT_EQ(out["answers"], json::object());
  EXPECT_EQ(out["tally"], json::parse(R"([{"slot": {"begin": "2022-11-01T01:11:22Z", "duration": "00:10:00"},
      "yes": 0, "maybe": 0, "no": 0, "pending": 2}])"));
  EXPECT_EQ(out["best_slot"], nullptr);
  EXPECT_EQ(out["ics_url"], "http://HOST/7/event.ics") << "the fields before stay as they were";
}

TEST(PollJson, AnswersStandBesideTheSlotsAndPendingOnesAreLeftOut) {
  v1::Event event = polled_event();
  v1::PartyAnswers& theirs = *event.add_answers();
  theirs.set_party("they@thar.net");
  theirs.add_answers(v1::ANSWER_UNSPECIFIED);
  theirs.add_answers(v1::ANSWER_MAYBE);
  v1::PartyAnswers& yours = *event.add_answers();
  yours.set_party("you@here.net");
  yours.add_answers(v1::ANSWER_YES);
  yours.add_answers(v1::ANSWER_NO);
  yours.add_answers(v1::ANSWER_YES);  // beyond the slots: ignored
  *event.mutable_best_slot() = event.slots(1);
  event.mutable_respond_by()->set_seconds(1667300000);
  event.mutable_respond_by()->set_nanos(5000);
  event.mutable_remind_before()->set_seconds(5400);
  event.set_hide_answers(true);
  const json out = json::parse(event_body(event, "http://HOST"));
  EXPECT_EQ(out["answers"], json::parse(R"({
      "they@thar.net": [{"slot": {"begin": "2022-11-01T02:11:22Z", "duration": "01:00:00"}, "answer": "maybe"}],
      "you@here.net": [{"slot": {"begin": "2022-11-01T01:11:22Z", "duration": "00:10:00"}, "answer": "yes"},
                       {"slot": {"begin": "2022-11-01T02:11:22Z", "duration": "01:00:00"}, "answer": "no"}]})"));
  EXPECT_EQ(out["best_slot"], json::parse(R"({"begin": "2022-11-01T02:11:22Z", "duration": "01:00:00"})"));
  EXPECT_EQ(out["respond_by"], "2022-11-01T10:53:20.000005Z");
  EXPECT_EQ(out["remind_before"], "01:30:00");
  EXPECT_EQ(out["hide_answers"], true);
}

TEST(PollJson, TheAnswersBodyTakesSlotsInAnySpellingOfSection4) {
  v1::AnswerSlotsRequest request;
  FieldErrors errors;
  answers_request_from_json(json::parse(R"({"answers": [
      {"slot": {"begin": "2022-11-01T03:11:22.02+02:00", "duration": "PT10M"}, "answer": "yes"},
      {"slot": {"begin": "2022-11-01 02:11:22", "duration": "1:00"}, "answer": "maybe"},
      {"slot": {"begin": "2022-11-01T01:11Z", "duration": "00:00:30"}, "answer": "no"}]})"),
                            request, errors);
  ASSERT_TRUE(errors.empty()) << errors.to_json();
  ASSERT_EQ(request.answers_size(), 3);
  EXPECT_EQ(request.answers(0).slot().begin().seconds(), 1667265082);
  EXPECT_EQ(request.answers(0).slot().begin().nanos(), 20'000'000);
  EXPECT_EQ(request.answers(0).slot().duration().seconds(), 600);
  EXPECT_EQ(request.answers(0).answer(), v1::ANSWER_YES);
  EXPECT_EQ(request.answers(1).answer(), v1::ANSWER_MAYBE);
  EXPECT_EQ(request.answers(2).answer(), v1::ANSWER_NO);

  v1::AnswerSlotsRequest none;
  answers_request_from_json(json::parse(R"({"answers": []})"), none, errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(none.answers_size(), 0);
}

TEST(PollJson, BadAnswersBodiesNameTheField) {
  const char* bodies[] = {
      R"({})",
      R"({"answers": null})",
      R"({"answers": {"slot": 1}})",
      R"({"answers": "yes"})",
      R"({"answers": [1]})",
      R"({"answers": [{"answer": "yes"}]})",
      R"({"answers": [{"slot": {"begin": "2022-02-30T00:00Z", "duration": "00:10"}, "answer": "yes"}]})",
      R"({"answers": [{"slot": {"begin": "2022-11-01T00:00Z", "duration": "00:00"}, "answer": "yes"}]})",
      R"({"answers": [{"slot": {"begin": "2022-11-01T00:00Z", "duration": "00:10"}}]})",
      R"({"answers": [{"slot": {"begin": "2022-11-01T00:00Z", "duration": "00:10"}, "answer": "Yes"}]})",
      R"({"answers": [{"slot": {"begin": "2022-11-01T00:00Z", "duration": "00:10"}, "answer": "if need be"}]})",
      R"({"answers": [{"slot": {"begin": "2022-11-01T00:00Z", "duration": "00:10"}, "answer": 1}]})",
  };
  for (const char* body : bodies) {
    v1::AnswerSlotsRequest request;
    FieldErrors errors;
    answers_request_from_json(json::parse(body), request, errors);
    ASSERT_FALSE(errors.empty()) << body;
    EXPECT_EQ(errors.to_json().size(), 1u) << body << " " << errors.to_json();
    EXPECT_TRUE(errors.to_json().contains("answers")) << body << " " << errors.to_json();
  }
  FieldErrors errors;
  v1::AnswerSlotsRequest request;
  answers_request_from_json(
      json::parse(
          R"({"answers": [{"slot": {"begin": "2022-11-01T00:00Z", "duration": "00:10"}, "answer": "yes"},
                                  {"slot": {"begin": "2022-11-01T00:00Z", "duration": "00:10"}, "answer": "yep"}]})"),
      request, errors);
  EXPECT_EQ(errors.to_json(),
            json::parse(R"({"answers": ["Answer 2: answer: Must be \"yes\", \"maybe\" or \"no\"."]})"));
}

TEST(PollJson, CreateTakesTheDeadlineTheLeadAndHiddenAnswers) {
  v1::CreateEventRequest request;
  FieldErrors errors;
  create_request_from_json(
      json::parse(R"({"parties": ["a@b.c"], "slots": [], "respond_by": "2030-01-01T12:00+01",
      "remind_before": "PT2H", "hide_answers": true})"),
      request, errors);
  ASSERT_TRUE(errors.empty()) << errors.to_json();
  EXPECT_EQ(request.respond_by().seconds(), 1893495600);
  EXPECT_EQ(request.remind_before().seconds(), 7200);
  EXPECT_TRUE(request.hide_answers());

  v1::CreateEventRequest plain;
  create_request_from_json(json::parse(R"({"parties": ["a@b.c"], "slots": [], "respond_by": null,
      "remind_before": null, "hide_answers": null})"),
                           plain, errors);
  EXPECT_TRUE(errors.empty()) << errors.to_json();
  EXPECT_FALSE(plain.has_respond_by());
  EXPECT_FALSE(plain.has_remind_before());

  for (const char* bad :
       {R"({"respond_by": "2030-02-30T00:00Z"})", R"({"respond_by": 5})", R"({"remind_before": "0:00"})",
        R"({"remind_before": 60})", R"({"hide_answers": "yes"})"}) {
    json body = json::parse(bad);
    body["parties"] = {"a@b.c"};
    body["slots"] = json::array();
    v1::CreateEventRequest refused;
    FieldErrors found;
    create_request_from_json(body, refused, found);
    EXPECT_EQ(found.to_json().size(), 1u) << bad << " " << found.to_json();
    EXPECT_TRUE(found.to_json().contains(json::parse(bad).begin().key())) << bad << " " << found.to_json();
  }
}

TEST(PollJson, APatchSetsOrClearsTheDeadlineAndIgnoresHideAnswers) {
  v1::UpdateEventRequest set;
  FieldErrors errors;
  EXPECT_TRUE(update_request_from_json(json::parse(R"({"respond_by": "2030-01-01T12:00Z"})"), set, errors));
  EXPECT_TRUE(errors.empty());
  EXPECT_TRUE(set.respond_by().has_at());
  EXPECT_FALSE(set.has_title());

  v1::UpdateEventRequest clear;
  EXPECT_TRUE(update_request_from_json(json::parse(R"({"respond_by": null})"), clear, errors));
  EXPECT_TRUE(clear.has_respond_by());
  EXPECT_FALSE(clear.respond_by().has_at());

  v1::UpdateEventRequest lead;
  EXPECT_TRUE(update_request_from_json(json::parse(R"({"remind_before": "1 00:00"})"), lead, errors));
  EXPECT_EQ(lead.remind_before().seconds(), 86400);
  EXPECT_TRUE(errors.empty()) << errors.to_json();

  v1::UpdateEventRequest hidden;
  EXPECT_FALSE(update_request_from_json(json::parse(R"({"hide_answers": true})"), hidden, errors));
  EXPECT_TRUE(errors.empty());

  v1::UpdateEventRequest bad;
  FieldErrors refused;
  update_request_from_json(json::parse(R"({"remind_before": null, "respond_by": "soon"})"), bad, refused);
  EXPECT_TRUE(refused.to_json().contains("remind_before")) << refused.to_json();
  EXPECT_TRUE(refused.to_json().contains("respond_by")) << refused.to_json();
}

TEST(PollJson, ClosedAnswersAre409WithTheServicesWords) {
  const HttpError error = http_error_from_status(
      to_grpc_status(state_conflict(kAnswersClosedReason, "Answers closed at 2030-01-01T12:00:00Z")));
  EXPECT_EQ(error.status, 409);
  EXPECT_EQ(error.body, json({{"detail", "Answers closed at 2030-01-01T12:00:00Z"}}));
}

}  // namespace
}  // namespace calndro::gateway
