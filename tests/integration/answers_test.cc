// Answers over HTTP and direct gRPC (SPEC §2 "who may answer", §3 the event's
// answers, tally, best_slot, respond_by and hide_answers and the
// PUT /ID/answers/ row, §4 slot equality, §5 ANSWER entries, §9): every rule
// against the real stack, for each kind of caller.
#include <gmock/gmock.h>
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <thread>

#include "calndro/events/v1/events.grpc.pb.h"
#include "common/grpc/rich_status.h"
#include "support/http_call.h"
#include "support/stack.h"

using json = nlohmann::json;
using namespace calndro::testing;
using ::testing::HasSubstr;
using ::testing::StartsWith;
namespace ev1 = calndro::events::v1;

namespace {

json slot(const std::string& begin, const std::string& duration) {
  return {{"begin", begin}, {"duration", duration}};
}

json answer(const json& which, const std::string& word) {
  return {{"slot", which}, {"answer", word}};
}

class Answers : public StackTest {
 protected:
  void prepare() override {
    if (!stack().has_notify()) {
      GTEST_FAIL() << "calndro-notify is not built: the answers tests need it for email tokens";
    }
    alice_ = stack().create_user(unique_email("nalice"), "alice-Pass-1");
    bob_ = stack().create_user(unique_email("nbob"), "bob-Pass-1");
    stranger_ = stack().create_user(unique_email("nstranger"), "stranger-Pass-1");
    staff_ = stack().create_user(unique_email("nstaff"), "staff-Pass-1", /*staff=*/true);
    staffer_ = stack().create_user(unique_email("nstaffer"), "staffer-Pass-1", /*staff=*/true);
    guest_ = unique_email("nguest");
    slots_ = json::array({slot("2030-07-01T10:00:00Z", "01:00:00"), slot("2030-07-02T10:00:00Z", "00:30:00"),
                          slot("2030-07-03T10:00:00Z", "02:00:00")});
    create_event(json::object());
  }

  // A new event of alice's with bob, the guest and staffer; `extra` adds
  // fields to the body (respond_by, hide_answers, ...).
  void create_event(const json& extra) {
    json body = {{"title", "tea"}, {"parties", {bob_.email, guest_, staffer_.email}}, {"slots", slots_}};
    body.update(extra);
    HttpReply r = call("POST", "/", alice(), body);
    ASSERT_EQ(r.status, 201) << r;
    event_ = r.j();
    id_ = std::to_string(event_["id"].get<long long>());
  }

  HttpReply call(const std::string& method, const std::string& path, const std::string& authorization = "",
                 const std::optional<json>& body = std::nullopt, httplib::Headers extra = {}) {
    return http_call(stack(), {method, path, authorization, json_body(body), std::move(extra)});
  }

  HttpReply put_answers(const std::string& authorization, const json& answers, const std::string& query = "",
                        httplib::Headers extra = {}) {
    return call("PUT", "/" + id_ + "/answers/" + query, authorization, json{{"answers", answers}},
                std::move(extra));
  }

  HttpReply get(const std::string& authorization, const std::string& query = "") {
    return call("GET", "/" + id_ + "/" + query, authorization);
  }

  std::string alice() const { return basic_auth(alice_.email, alice_.password); }
  std::string bob() const { return basic_auth(bob_.email, bob_.password); }
  std::string stranger() const { return basic_auth(stranger_.email, stranger_.password); }
  std::string staff() const { return basic_auth(staff_.email, staff_.password); }
  std::string staffer() const { return basic_auth(staffer_.email, staffer_.password); }

  // `sender` notifies `who`; returns the token mailed to `who`.
  std::string token_for(const std::string& sender, const std::string& who) {
    const size_t before = stack().smtp().messages_to(who).size();
    HttpReply r = call("POST", "/" + id_ + "/notify/", sender, json{{"parties", {who}}, {"slots", slots_}});
    EXPECT_EQ(r.status, 202) << r;
    const auto mails = stack().smtp().wait_for_to(who, before + 1, 30s);
    std::smatch m;
    const std::string text = mails.back().text();
    EXPECT_TRUE(std::regex_search(text, m, std::regex("/" + id_ + "/\\?et=([0-9a-f]{40})"))) << text;
    return m.size() > 1 ? m[1].str() : "";
  }

  json log_entries(const std::string& occurrence) {
    json found = json::array();
    const json log = call("GET", "/" + id_ + "/log/?limit=1000", alice()).j();
    for (const auto& entry : log["entries"]) {
      if (entry["occurrence"] == occurrence) {
        found.push_back(entry);
      }
    }
    return found;
  }

  size_t log_size() { return call("GET", "/" + id_ + "/log/?limit=1000", alice()).j()["entries"].size(); }

  // What a refused call must leave: the same ETag, answers and log (a GET
  // adds a VIEW: counted before and after alike).
  struct Snapshot {
    std::string etag;
    json answers;
    size_t log = 0;
  };
  Snapshot snapshot() {
    HttpReply seen = get(alice());
    return {seen.header("ETag"), seen.j()["answers"], log_size()};
  }
  void expect_unchanged(const Snapshot& before, const std::string& what) {
    HttpReply seen = get(alice());
    EXPECT_EQ(seen.header("ETag"), before.etag) << what;
    EXPECT_EQ(seen.j()["answers"], before.answers) << what;
    EXPECT_EQ(log_size(), before.log + 1) << what << ": only the GET's VIEW was logged";
  }

  void expect_check_passes() {
    const CommandResult check = stack().admin({"check"});
    EXPECT_EQ(check.exit_code, 0) << check.output();
  }

  User alice_, bob_, stranger_, staff_, staffer_;
  std::string guest_, id_;
  json slots_, event_;
};

TEST_F(Answers, ANewEventShowsAnEmptyPollAndADayAheadReminder) {
  EXPECT_EQ(event_["respond_by"], nullptr);
  EXPECT_EQ(event_["remind_before"], "1 00:00:00");
  EXPECT_EQ(event_["hide_answers"], false);
  EXPECT_EQ(event_["answers"], json::object());
  EXPECT_EQ(event_["best_slot"], nullptr);
  ASSERT_EQ(event_["tally"].size(), 3u);
  EXPECT_EQ(event_["tally"][0],
            json({{"slot", slots_[0]}, {"yes", 0}, {"maybe", 0}, {"no", 0}, {"pending", 4}}));
}

TEST_F(Answers, EachPartyAnswersForItselfAndTheEventShowsTallyAndBestSlot) {
  // Slots spelled otherwise than on creation: equal as instants and durations.
  HttpReply r = put_answers(bob(), json::array({answer(slot("2030-07-03T12:00+02:00", "PT2H"), "no"),
                                                answer(slot("2030-07-01 10:00", "1:00"), "yes")}));
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.header("ETag"), "\"2\"");
  json event = r.j();
  EXPECT_EQ(event["answers"],
            json({{bob_.email, json::array({answer(slots_[0], "yes"), answer(slots_[2], "no")})}}));
  EXPECT_EQ(event["best_slot"], slots_[0]);

  const std::string guest_token = token_for(alice(), guest_);
  r = put_answers("", json::array({answer(slots_[1], "maybe"), answer(slots_[0], "maybe")}),
                  "?et=" + guest_token);
  ASSERT_EQ(r.status, 200) << r;
  r = put_answers(alice(), json::array({answer(slots_[1], "yes")}));
  ASSERT_EQ(r.status, 200) << r;
  r = put_answers(staffer(), json::array({answer(slots_[1], "no")}));
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.header("ETag"), "\"5\"");

  event = get(bob()).j();
  EXPECT_EQ(event["answers"],
            json({{alice_.email, json::array({answer(slots_[1], "yes")})},
                  {bob_.email, json::array({answer(slots_[0], "yes"), answer(slots_[2], "no")})},
                  {guest_, json::array({answer(slots_[0], "maybe"), answer(slots_[1], "maybe")})},
                  {staffer_.email, json::array({answer(slots_[1], "no")})}}));
  EXPECT_EQ(event["tally"],
            json({{{"slot", slots_[0]}, {"yes", 1}, {"maybe", 1}, {"no", 0}, {"pending", 2}},
                  {{"slot", slots_[1]}, {"yes", 1}, {"maybe", 1}, {"no", 1}, {"pending", 1}},
                  {{"slot", slots_[2]}, {"yes", 0}, {"maybe", 0}, {"no", 1}, {"pending", 3}}}));
  EXPECT_EQ(event["best_slot"], slots_[0]) << "2 yes or maybe each; 1 yes each; the earlier";

  const json entries = log_entries("ANSWER");
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[0]["effector"], bob_.email);
  EXPECT_EQ(entries[0]["slots"], slots_);
  EXPECT_EQ(entries[0]["data"],
            json({{"answers", json::array({answer(slots_[0], "yes"), answer(slots_[2], "no")})}}));
  EXPECT_EQ(entries[1]["effector"], guest_);
  EXPECT_EQ(entries[1]["data"]["answers"],
            json(json::array({answer(slots_[0], "maybe"), answer(slots_[1], "maybe")})));
  ASSERT_TRUE(entries[1]["data"].contains("token"));
  EXPECT_THAT(entries[1]["data"]["token"].get<std::string>(), ::testing::Not(HasSubstr(guest_token)));
  expect_check_passes();
}

TEST_F(Answers, APutReplacesTheWholeSetAndOneThatChangesNothingLogsNothing) {
  ASSERT_EQ(put_answers(bob(), json::array({answer(slots_[0], "yes"), answer(slots_[1], "yes")})).status,
            200);
  HttpReply r = put_answers(bob(), json::array({answer(slots_[1], "no")}));
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.j()["answers"][bob_.email], json(json::array({answer(slots_[1], "no")})));
  EXPECT_EQ(r.j()["tally"][0]["pending"], 4) << "a slot left out is pending again";

  const Snapshot before = snapshot();
  r = put_answers(bob(), json::array({answer(slot("2030-07-02T12:00:00+02", "00:30"), "no")}));
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.header("ETag"), before.etag);
  expect_unchanged(before, "a PUT of the same answers");

  r = put_answers(bob(), json::array());
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.j()["answers"], json::object());
  EXPECT_EQ(log_entries("ANSWER").back()["data"], json({{"answers", json::array()}}));
}

TEST_F(Answers, IfMatchGuardsAnswersAnd412CarriesTheEvent) {
  HttpReply r = put_answers(bob(), json::array({answer(slots_[0], "yes")}), "", {{"If-Match", "\"1\""}});
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.header("ETag"), "\"2\"");
  const Snapshot before = snapshot();
  r = put_answers(bob(), json::array({answer(slots_[0], "no")}), "", {{"If-Match", "\"1\""}});
  ASSERT_EQ(r.status, 412) << r;
  EXPECT_EQ(r.header("ETag"), "\"2\"");
  EXPECT_EQ(r.j()["event"]["answers"][bob_.email], json(json::array({answer(slots_[0], "yes")})));
  expect_unchanged(before, "a stale If-Match");
  EXPECT_EQ(put_answers(bob(), json::array({answer(slots_[0], "no")}), "", {{"If-Match", "\"2\""}}).status,
            200);
}

TEST_F(Answers, AnAgreedEventTakesNoAnswers) {
  ASSERT_EQ(call("POST", "/" + id_ + "/agree/", alice(), json{{"slot", slots_[0]}}).status, 200);
  const Snapshot before = snapshot();
  for (const std::string& who : {alice(), bob(), staffer()}) {
    HttpReply r = put_answers(who, json::array({answer(slots_[0], "yes")}));
    EXPECT_EQ(r.status, 409) << r;
    EXPECT_THAT(r.j()["detail"].get<std::string>(), HasSubstr("agreed"));
  }
  expect_unchanged(before, "answers while agreed");
  ASSERT_EQ(call("POST", "/" + id_ + "/reopen/", alice()).status, 200);
  EXPECT_EQ(put_answers(bob(), json::array({answer(slots_[0], "yes")})).status, 200);
}

TEST_F(Answers, BadAnswersAre400NamingTheFieldAndChangeNothing) {
  ASSERT_EQ(put_answers(bob(), json::array({answer(slots_[0], "yes")})).status, 200);
  const Snapshot before = snapshot();
  const json bodies[] = {
      json{{"answers",
            json::array({answer(slot("2030-07-01T10:00:00Z", "00:59"), "yes")})}},  // not a slot of the event
      json{{"answers",
            json::array({answer(slots_[1], "yes"), answer(slot("2030-07-02T11:00+01", "PT30M"), "no")})}},
      json{{"answers", json::array({answer(slots_[1], "if need be")})}},
      json{{"answers", json::array({answer(slots_[1], "YES")})}},
      json{{"answers", {{{"slot", slots_[1]}}}}},
      json{{"answers", json::array({answer(slot("2030-02-30T10:00Z", "01:00"), "yes")})}},
      json{{"answers", answer(slots_[1], "yes")}},
      json{{"answers", "yes"}},
      json::object(),
  };
  for (const json& body : bodies) {
    HttpReply r = call("PUT", "/" + id_ + "/answers/", bob(), body);
    EXPECT_EQ(r.status, 400) << body << " " << r;
    EXPECT_TRUE(r.j().contains("answers")) << body << " " << r;
  }
  HttpReply twice = put_answers(
      bob(), json::array({answer(slots_[1], "yes"), answer(slot("2030-07-02T11:00+01", "PT30M"), "no")}));
  EXPECT_EQ(twice.j(),
            json({{"answers", {"Answer 2: slot: the same slot as answer 1 (each slot at most once)."}}}));
  HttpReply text =
      call("PUT", "/" + id_ + "/answers/", bob(), std::nullopt, {{"Content-Type", "text/plain"}});
  expect_unchanged(before, "bad answers");
}

TEST_F(Answers, WhoMayAnswerFollowsTheAccessTable) {
  const std::string guest_token = token_for(alice(), guest_);
  const json mine = json::array({answer(slots_[0], "yes")});
  HttpReply r = put_answers("", mine);
  EXPECT_EQ(r.status, 401) << r;
  EXPECT_EQ(r.header("WWW-Authenticate"), "Basic realm=\"calndro\"");
  EXPECT_EQ(put_answers(basic_auth(bob_.email, "wrong"), mine).status, 401);
  EXPECT_EQ(put_answers(stranger(), mine).status, 403);
  r = put_answers(staff(), mine);
  EXPECT_EQ(r.status, 403) << "staff who are not a party: " << r;
  EXPECT_EQ(put_answers(staffer(), mine).status, 200) << "staff who are a party answer";
  EXPECT_EQ(put_answers("", mine, "?et=" + guest_token).status, 200);
  EXPECT_EQ(put_answers(bob(), mine).status, 200);
  EXPECT_EQ(put_answers(alice(), mine).status, 200);
  const std::string other_id = id_;
  create_event(json::object());
  EXPECT_EQ(put_answers("", mine, "?et=" + guest_token).status, 403) << "a token for another event";
  id_ = "99999999";
  EXPECT_EQ(put_answers(bob(), mine).status, 404);
  id_ = other_id;
  // Valid credentials and a token together: the credentials answer.
  r = call("PUT", "/" + id_ + "/answers/", bob(), json{{"answers", json::array({answer(slots_[2], "no")})}},
           {{"X-Email-Token", guest_token}});
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.j()["answers"][bob_.email], json(json::array({answer(slots_[2], "no")})));
  EXPECT_EQ(r.j()["answers"][guest_], mine);
}

TEST_F(Answers, TheRouteTakesPutOnlyAndRedirectsWithoutItsSlash) {
  HttpReply r = call("GET", "/" + id_ + "/answers/", bob());
  EXPECT_EQ(r.status, 405) << r;
  EXPECT_EQ(r.header("Allow"), "PUT");
  EXPECT_EQ(call("POST", "/" + id_ + "/answers/", bob(), json::object()).status, 405);
  r = call("PUT", "/" + id_ + "/answers?et=x", bob(), json{{"answers", json::array()}});
  EXPECT_EQ(r.status, 301) << r;
  EXPECT_EQ(r.header("Location"), "/" + id_ + "/answers/?et=x");
  r = call("PUT", "/" + id_ + "/answers/", bob(), json{{"answers", json::array()}},
           {{"Sec-Fetch-Site", "cross-site"}});
  EXPECT_EQ(r.status, 403) << "a write from another site: " << r;
}

TEST_F(Answers, APatchOfTheSlotsMovesTheTallyAndAReAddedSlotIsPending) {
  ASSERT_EQ(put_answers(bob(), json::array({answer(slots_[0], "yes"), answer(slots_[1], "no")})).status, 200);
  ASSERT_EQ(put_answers(alice(), json::array({answer(slots_[1], "maybe")})).status, 200);
  HttpReply r = call("PATCH", "/" + id_ + "/", bob(), json{{"slots", {slots_[0], slots_[2]}}});
  ASSERT_EQ(r.status, 202) << r;
  json event = r.j();
  EXPECT_EQ(event["answers"], json({{bob_.email, json::array({answer(slots_[0], "yes")})}}));
  EXPECT_EQ(event["tally"],
            json({{{"slot", slots_[0]}, {"yes", 1}, {"maybe", 0}, {"no", 0}, {"pending", 3}},
                  {{"slot", slots_[2]}, {"yes", 0}, {"maybe", 0}, {"no", 0}, {"pending", 4}}}));
  EXPECT_EQ(event["best_slot"], slots_[0]);
  EXPECT_EQ(put_answers(alice(), json::array({answer(slots_[1], "yes")})).status, 400)
      << "a removed slot takes no answers";

  r = call("PATCH", "/" + id_ + "/", bob(),
           json{{"slots", {slots_[0], slots_[2], slot("2030-07-04T10:00Z", "00:15"), slots_[1]}}});
  ASSERT_EQ(r.status, 202) << r;
  event = r.j();
  ASSERT_EQ(event["tally"].size(), 4u);
  EXPECT_EQ(event["tally"][1],
            json({{"slot", slots_[1]}, {"yes", 0}, {"maybe", 0}, {"no", 0}, {"pending", 4}}))
      << "the slot added back is pending for everyone";
  EXPECT_EQ(event["tally"][3]["pending"], 4);
  EXPECT_EQ(event["answers"], json({{bob_.email, json::array({answer(slots_[0], "yes")})}}));
  const json answers = log_entries("ANSWER");
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[0]["data"]["answers"],
            json(json::array({answer(slots_[0], "yes"), answer(slots_[1], "no")})))
      << "the log keeps what was answered";
  expect_check_passes();
}

TEST_F(Answers, HiddenAnswersShowEachCallerWhatItMaySee) {
  create_event(json{{"hide_answers", true}});
  EXPECT_EQ(event_["hide_answers"], true);
  const std::string guest_token = token_for(alice(), guest_);
  ASSERT_EQ(put_answers(alice(), json::array({answer(slots_[0], "yes")})).status, 200);
  ASSERT_EQ(put_answers(bob(), json::array({answer(slots_[0], "maybe")})).status, 200);
  HttpReply r = put_answers("", json::array({answer(slots_[1], "no")}), "?et=" + guest_token);
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.j()["answers"], json({{guest_, json::array({answer(slots_[1], "no")})}}))
      << "the PUT answers the own row too";

  const json all = {{alice_.email, json::array({answer(slots_[0], "yes")})},
                    {bob_.email, json::array({answer(slots_[0], "maybe")})},
                    {guest_, json::array({answer(slots_[1], "no")})}};
  EXPECT_EQ(get(alice()).j()["answers"], all) << "the creator";
  EXPECT_EQ(get(staff()).j()["answers"], all) << "staff";
  EXPECT_EQ(get(bob()).j()["answers"], json({{bob_.email, json::array({answer(slots_[0], "maybe")})}}))
      << "another party";
  EXPECT_EQ(get("", "?et=" + guest_token).j()["answers"],
            json({{guest_, json::array({answer(slots_[1], "no")})}}))
      << "a token holder";
  EXPECT_EQ(get(staffer()).j()["answers"], all) << "staff who are a party";
  for (const std::string& who : {bob(), alice()}) {
    const json event = get(who).j();
    EXPECT_EQ(event["tally"][0],
              json({{"slot", slots_[0]}, {"yes", 1}, {"maybe", 1}, {"no", 0}, {"pending", 2}}));
    EXPECT_EQ(event["best_slot"], slots_[0]);
  }
  bool listed = false;
  for (const json& event : call("GET", "/", bob()).j()) {
    if (std::to_string(event["id"].get<long long>()) == id_) {
      listed = event["answers"] == json({{bob_.email, json::array({answer(slots_[0], "maybe")})}});
    }
  }
  EXPECT_TRUE(listed) << "the list hides what the detail hides";
  r = call("PATCH", "/" + id_ + "/", bob(), json{{"title", "x"}}, {{"If-Match", "\"1\""}});
  ASSERT_EQ(r.status, 412) << r;
  EXPECT_EQ(r.j()["event"]["answers"], json({{bob_.email, json::array({answer(slots_[0], "maybe")})}}));

  const json entries = log_entries("ANSWER");
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0]["data"], json({{"hidden", true}}));
  EXPECT_EQ(entries[2]["data"]["hidden"], true);
  EXPECT_FALSE(entries[2]["data"].contains("answers"));
  r = call("PATCH", "/" + id_ + "/", alice(), json{{"hide_answers", false}, {"title", "y"}});
  ASSERT_EQ(r.status, 202) << r;
  EXPECT_EQ(r.j()["hide_answers"], true) << "fixed at creation, as parties are";
}

TEST_F(Answers, AfterTheDeadlineOnlyTheCreatorAndStaffAnswer) {
  const std::string guest_token = token_for(alice(), guest_);
  const std::string alice_token = token_for(alice(), alice_.email);
  HttpReply r = call("PATCH", "/" + id_ + "/", bob(), json{{"respond_by", "2031-01-01T00:00Z"}});
  EXPECT_EQ(r.status, 403) << "a party does not move the deadline: " << r;
  r = call("PATCH", "/" + id_ + "/", alice(), json{{"respond_by", "2020-01-01T00:00Z"}});
  EXPECT_EQ(r.status, 400) << r;
  EXPECT_TRUE(r.j().contains("respond_by")) << r;

  // A deadline three seconds away, spelled with an offset: shown in UTC.
  const auto soon = std::chrono::system_clock::now() + std::chrono::seconds(3);
  const std::string soon_text = google::protobuf::util::TimeUtil::ToString(
      google::protobuf::util::TimeUtil::TimeTToTimestamp(std::chrono::system_clock::to_time_t(soon)));
  r = call("PATCH", "/" + id_ + "/", alice(), json{{"respond_by", soon_text}, {"remind_before", "PT1H"}});
  ASSERT_EQ(r.status, 202) << r;
  EXPECT_EQ(r.j()["respond_by"], soon_text);
  EXPECT_EQ(r.j()["remind_before"], "01:00:00");
  ASSERT_EQ(put_answers(bob(), json::array({answer(slots_[0], "yes")})).status, 200) << "before the deadline";
  std::this_thread::sleep_until(soon + std::chrono::milliseconds(500));

  const Snapshot before = snapshot();
  for (const auto& [who, query] :
       {std::pair{bob(), std::string()}, std::pair{std::string(), "?et=" + guest_token}}) {
    r = put_answers(who, json::array({answer(slots_[1], "yes")}), query);
    EXPECT_EQ(r.status, 409) << r;
    EXPECT_EQ(r.j(), json({{"detail", "Answers closed at " + soon_text}}));
  }
  expect_unchanged(before, "answers after the deadline");
  EXPECT_EQ(put_answers(alice(), json::array({answer(slots_[1], "yes")})).status, 200) << "the creator";
  EXPECT_EQ(put_answers("", json::array({answer(slots_[2], "yes")}), "?et=" + alice_token).status, 200)
      << "the creator by token";
  EXPECT_EQ(put_answers(staffer(), json::array({answer(slots_[1], "maybe")})).status, 200)
      << "staff who are a party";
  EXPECT_EQ(put_answers(staff(), json::array({answer(slots_[1], "maybe")})).status, 403)
      << "staff who are not";

  r = call("PATCH", "/" + id_ + "/", staff(), json{{"respond_by", nullptr}});
  ASSERT_EQ(r.status, 202) << r;
  EXPECT_EQ(r.j()["respond_by"], nullptr);
  EXPECT_EQ(put_answers(bob(), json::array({answer(slots_[1], "yes")})).status, 200)
      << "no deadline, no closing";
  const json updates = log_entries("UPDATE");
  EXPECT_EQ(updates.back()["data"], json({{"respond_by", nullptr}}));
  expect_check_passes();
}

TEST_F(Answers, CreateTakesADeadlineALeadAndRefusesBadOnes) {
  create_event(json{{"respond_by", "2031-05-06T07:08:09.5+02:00"}, {"remind_before", "2 03:00"}});
  EXPECT_EQ(event_["respond_by"], "2031-05-06T05:08:09.500000Z");
  EXPECT_EQ(event_["remind_before"], "2 03:00:00");
  for (const json& bad :
       {json{{"respond_by", "2001-01-01T00:00Z"}}, json{{"respond_by", "tomorrow"}},
        json{{"remind_before", "00:00"}}, json{{"remind_before", "-01:00"}}, json{{"hide_answers", "yes"}}}) {
    json body = {{"parties", {bob_.email}}, {"slots", slots_}};
    body.update(bad);
    HttpReply r = call("POST", "/", alice(), body);
    EXPECT_EQ(r.status, 400) << bad << " " << r;
    EXPECT_TRUE(r.j().contains(bad.begin().key())) << bad << " " << r;
  }
}

// The same rules for a direct gRPC client, from metadata.
class AnswersGrpc : public Answers {
 protected:
  std::unique_ptr<grpc::ClientContext> ctx(const std::string& authorization) {
    auto c = std::make_unique<grpc::ClientContext>();
    c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(15));
    if (!authorization.empty()) {
      c->AddMetadata("authorization", authorization);
    }
    return c;
  }

  ev1::AnswerSlotsRequest request(const std::vector<std::pair<int, ev1::Answer>>& answers) {
    ev1::AnswerSlotsRequest out;
    out.set_id(std::stoll(id_));
    for (const auto& [index, word] : answers) {
      ev1::SlotAnswer& one = *out.add_answers();
      const json& which = slots_[index];
      EXPECT_TRUE(
          google::protobuf::util::TimeUtil::FromString(which["begin"], one.mutable_slot()->mutable_begin()));
      one.mutable_slot()->mutable_duration()->set_seconds(index == 0 ? 3600 : index == 1 ? 1800 : 7200);
      one.set_answer(word);
    }
    return out;
  }

  grpc::Status answer_as(const std::string& authorization, const ev1::AnswerSlotsRequest& req,
                         ev1::Event* out = nullptr) {
    ev1::Event event;
    const grpc::Status status = stub_->AnswerSlots(ctx(authorization).get(), req, &event);
    if (out != nullptr) {
      *out = event;
    }
    return status;
  }

  void prepare() override {
    Answers::prepare();
    stub_ = ev1::EventService::NewStub(stack().events_channel());
  }

  std::unique_ptr<ev1::EventService::Stub> stub_;
};

TEST_F(AnswersGrpc, AnswerSlotsFollowsTheSameRules) {
  ev1::Event event;
  grpc::Status s = answer_as(bob(), request({{2, ev1::ANSWER_MAYBE}, {0, ev1::ANSWER_YES}}), &event);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(event.version(), 2);
  ASSERT_EQ(event.answers_size(), 1);
  EXPECT_EQ(event.answers(0).party(), bob_.email);
  EXPECT_EQ(std::vector<int>(event.answers(0).answers().begin(), event.answers(0).answers().end()),
            (std::vector<int>{ev1::ANSWER_YES, ev1::ANSWER_UNSPECIFIED, ev1::ANSWER_MAYBE}));
  ASSERT_EQ(event.tally_size(), 3);
  EXPECT_EQ(event.tally(0).yes(), 1);
  EXPECT_EQ(event.tally(0).pending(), 3);
  EXPECT_TRUE(event.has_best_slot());
  EXPECT_EQ(event.remind_before().seconds(), 86400);

  s = answer_as(bob(), request({{2, ev1::ANSWER_MAYBE}, {0, ev1::ANSWER_YES}}), &event);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(event.version(), 2) << "no change, no version";

  EXPECT_EQ(answer_as("", request({})).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(answer_as(staff(), request({})).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(answer_as(stranger(), request({})).error_code(), grpc::StatusCode::PERMISSION_DENIED);

  s = answer_as(bob(), request({{0, ev1::ANSWER_UNSPECIFIED}}));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  const auto details = calndro::decode_details(s);
  ASSERT_EQ(details.violations.size(), 1u);
  EXPECT_EQ(details.violations[0].field, "answers");

  ev1::AnswerSlotsRequest stale = request({{1, ev1::ANSWER_NO}});
  stale.set_expected_version(1);
  s = answer_as(bob(), stale);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(calndro::decode_details(s).reason.empty()) << "a stale version carries the event, no reason";

  ASSERT_EQ(call("POST", "/" + id_ + "/agree/", alice(), json{{"slot", slots_[0]}}).status, 200);
  s = answer_as(bob(), request({{1, ev1::ANSWER_NO}}));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(calndro::decode_details(s).reason, calndro::kEventAgreedReason);
  ASSERT_EQ(call("POST", "/" + id_ + "/reopen/", alice()).status, 200);

  ev1::UpdateEventRequest deadline;
  deadline.set_id(std::stoll(id_));
  *deadline.mutable_respond_by()->mutable_at() = google::protobuf::util::TimeUtil::GetCurrentTime();
  deadline.mutable_respond_by()->mutable_at()->set_seconds(deadline.respond_by().at().seconds() + 2);
  ev1::Event updated;
  ASSERT_TRUE(stub_->UpdateEvent(ctx(alice()).get(), deadline, &updated).ok());
  EXPECT_TRUE(updated.has_respond_by());
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  s = answer_as(bob(), request({{1, ev1::ANSWER_NO}}));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(calndro::decode_details(s).reason, calndro::kAnswersClosedReason);
  EXPECT_THAT(s.error_message(), StartsWith("Answers closed at "));
  EXPECT_TRUE(answer_as(alice(), request({{1, ev1::ANSWER_NO}})).ok());
  expect_check_passes();
}

}  // namespace
