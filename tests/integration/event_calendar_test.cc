// GET /ID/event.ics through the gateway (SPEC §3): the document read by an
// independent parser (python3-icalendar), its headers, the VIEW it logs and
// the same access as GET /ID/. Events are open here: the agreed rendering is
// unit-tested (tests/unit/events/event_calendar_test.cc).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "support/calendar.h"
#include "support/http_call.h"
#include "support/stack.h"

using json = nlohmann::json;
using namespace calndro::testing;

namespace {

const std::string kTitle = "Réunion d'équipe, très longue; 日本語の会議 — un titre assez long pour être plié";

json slot(const std::string& begin, const std::string& duration) {
  return {{"begin", begin}, {"duration", duration}};
}

class EventCalendarHttp : public StackTest {
 protected:
  void prepare() override {
    alice_ = stack().create_user(unique_email("calice"), "alice-Pass-1");
    bob_ = stack().create_user(unique_email("cbob"), "bob-Pass-1");
    staff_ = stack().create_user(unique_email("cstaff"), "staff-Pass-1", true);
    guest_ = unique_email("cguest");
    slots_ =
        json::array({slot("2030-07-01T10:00:00Z", "01:00:00"), slot("2030-07-02T10:00:00.250Z", "00:30:00"),
                     slot("2030-07-03T08:00:00+02:00", "1 02:00:00")});
    HttpReply r = call("POST", "/", alice(),
                       json{{"title", kTitle}, {"parties", {alice_.email, guest_}}, {"slots", slots_}});
    ASSERT_EQ(r.status, 201) << r;
    id_ = std::to_string(r.j()["id"].get<long long>());
  }

  HttpReply call(const std::string& method, const std::string& path, const std::string& authorization = "",
                 const std::optional<json>& body = std::nullopt, httplib::Headers extra = {}) {
    std::optional<std::string> text;
    if (body) {
      text = body->dump();
    }
    return http_call(stack(), {method, path, authorization, text, std::move(extra)});
  }
  std::string alice() const { return basic_auth(alice_.email, alice_.password); }
  std::string staff() const { return basic_auth(staff_.email, staff_.password); }

  json log_entries() {
    HttpReply r = call("GET", "/" + id_ + "/log/?limit=1000", staff());
    EXPECT_EQ(r.status, 200) << r;
    return r.status == 200 ? r.j()["entries"] : json::array();
  }

  // Alice notifies the guest; the token mailed to the guest.
  std::string guest_token() {
    HttpReply r =
        call("POST", "/" + id_ + "/notify/", alice(), json{{"parties", {guest_}}, {"slots", slots_}});
    EXPECT_EQ(r.status, 202) << r;
    auto mails = stack().smtp().wait_for_to(guest_, 1, 30s);
    std::smatch m;
    const std::string text = mails.back().text();
    EXPECT_TRUE(std::regex_search(text, m, std::regex("/" + id_ + "/\\?et=([0-9a-f]{40})"))) << text;
    return m.size() > 1 ? m[1].str() : "";
  }

  // A refused call: the status, a JSON body with "detail", nothing logged.
  void expect_refused(const HttpReply& r, int status, std::size_t log_size, const std::string& what) {
    EXPECT_EQ(r.status, status) << what << ": " << r;
    EXPECT_EQ(r.header("Content-Type"), "application/json") << what;
    EXPECT_TRUE(r.j().contains("detail")) << what << ": " << r;
    EXPECT_TRUE(r.header("Content-Disposition").empty()) << what;
    EXPECT_EQ(log_entries().size(), log_size) << what << " logged something";
  }

  User alice_, bob_, staff_;
  std::string guest_, id_;
  json slots_;
};

TEST_F(EventCalendarHttp, OneTentativeEntryPerSlotAsAnAttachmentAndAView) {
  const std::size_t before = log_entries().size();
  HttpReply r = call("GET", "/" + id_ + "/event.ics", alice());
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.header("Content-Type"), "text/calendar; charset=utf-8");
  EXPECT_EQ(r.header("Content-Disposition"), "attachment; filename=\"calndro-" + id_ + ".ics\"");
  const json ics = summarize_ics(r.body);
  EXPECT_EQ(ics["method"], "PUBLISH");
  EXPECT_EQ(ics["version"], "2.0");
  EXPECT_TRUE(ics["crlf_only"].get<bool>());
  EXPECT_LE(ics["max_line_octets"].get<int>(), 75);
  EXPECT_NE(r.body.find("\r\n "), std::string::npos) << "the long title is folded";
  ASSERT_EQ(ics["events"].size(), 3u);
  std::set<std::pair<std::string, std::string>> times;
  std::set<std::string> uids;
  for (const json& event : ics["events"]) {
    EXPECT_EQ(event["status"], "TENTATIVE");
    EXPECT_EQ(event["summary"], kTitle);
    EXPECT_EQ(event["url"], stack().base_url() + "/" + id_ + "/");
    EXPECT_NE(event["description"].get<std::string>().find(stack().base_url() + "/" + id_ + "/"),
              std::string::npos);
    EXPECT_NE(event["uid"], "event-" + id_ + "@calndro");
    uids.insert(event["uid"].get<std::string>());
    times.insert({event["dtstart"].get<std::string>(), event["dtend"].get<std::string>()});
  }
  EXPECT_EQ(uids.size(), 3u);
  // Whole seconds: the begin rounded down, the end rounded up.
  EXPECT_EQ(times, (std::set<std::pair<std::string, std::string>>{
                       {"2030-07-01T10:00:00Z", "2030-07-01T11:00:00Z"},
                       {"2030-07-02T10:00:00Z", "2030-07-02T10:30:01Z"},
                       {"2030-07-03T06:00:00Z", "2030-07-04T08:00:00Z"}}));
  const json entries = log_entries();
  ASSERT_EQ(entries.size(), before + 1);
  EXPECT_EQ(entries.back()["occurrence"], "VIEW");
  EXPECT_EQ(entries.back()["effector"], alice_.email);
}

TEST_F(EventCalendarHttp, SameCredentialsAndRefusalsAsGetEvent) {
  const std::string path = "/" + id_ + "/event.ics";
  std::size_t size = log_entries().size();
  HttpReply anonymous = call("GET", path);
  expect_refused(anonymous, 401, size, "no credentials");
  EXPECT_EQ(anonymous.header("WWW-Authenticate"), "Basic realm=\"calndro\"");
  expect_refused(call("GET", path, basic_auth(bob_.email, bob_.password)), 403, size, "a non-party");
  expect_refused(call("GET", "/999999999/event.ics", alice()), 404, size, "a missing event");
  EXPECT_EQ(call("GET", "/" + id_ + "/event.ics/", alice()).status, 404);
  EXPECT_EQ(call("POST", path, alice()).status, 405);

  // An API key.
  HttpReply key =
      call("POST", "/api-token-auth/", "", json{{"username", alice_.email}, {"password", alice_.password}});
  ASSERT_EQ(key.status, 200) << key;
  EXPECT_EQ(call("GET", path, "Token " + key.j()["token"].get<std::string>()).status, 200);

  // The guest's email token, as ?et= and as X-Email-Token: VIEWs with its fingerprint.
  const std::string token = guest_token();
  ASSERT_EQ(token.size(), 40u);
  HttpReply by_query = call("GET", path + "?et=" + token);
  ASSERT_EQ(by_query.status, 200) << by_query;
  EXPECT_EQ(summarize_ics(by_query.body)["events"].size(), 3u);
  EXPECT_EQ(by_query.body.find(token), std::string::npos) << "the token is not written into the document";
  EXPECT_EQ(call("GET", path, "", std::nullopt, {{"X-Email-Token", token}}).status, 200);
  json entries = log_entries();
  ASSERT_GE(entries.size(), 2u);
  for (std::size_t i = entries.size() - 2; i < entries.size(); ++i) {
    EXPECT_EQ(entries[i]["occurrence"], "VIEW");
    EXPECT_EQ(entries[i]["effector"], guest_);
    EXPECT_TRUE(entries[i]["data"].contains("token")) << entries[i];
  }
  // The token of this event opens no other.
  HttpReply other = call("POST", "/", alice(), json{{"parties", {alice_.email}}, {"slots", slots_}});
  ASSERT_EQ(other.status, 201);
  EXPECT_EQ(
      call("GET", "/" + std::to_string(other.j()["id"].get<long long>()) + "/event.ics?et=" + token).status,
      403);

  // Deleted: 404 to the parties, as GET /ID/.
  ASSERT_EQ(call("DELETE", "/" + id_ + "/", staff()).status, 204);
  size = log_entries().size();
  expect_refused(call("GET", path, alice()), 404, size, "a deleted event");
}

}  // namespace
