// GET /ID/event.ics through the gateway (SPEC §3): the document read by an
// independent parser (python3-icalendar), its headers, the VIEW it logs and
// the same access as GET /ID/; an agreed event's document is the confirmed
// entry of the invitations mailed (same UID and SEQUENCE), and tentative
// entries again once reopened.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "calndro/events/v1/events.grpc.pb.h"
#include "support/calendar.h"
#include "support/http_call.h"
#include "support/stack.h"

using json = nlohmann::json;
using namespace calndro::testing;
namespace ev1 = calndro::events::v1;

namespace {

const std::string kTitle = "Réunion d'équipe, très longue; 日本語の会議 — un titre assez long pour être plié";

class EventCalendarHttp : public StackTest {
 protected:
  void prepare() override {
    alice_ = stack().create_user(unique_email("calice"), "alice-Pass-1");
    bob_ = stack().create_user(unique_email("cbob"), "bob-Pass-1");
    staff_ = stack().create_user(unique_email("cstaff"), "staff-Pass-1", true);
    guest_ = unique_email("cguest");
    slots_ = json::array({slot_json("2030-07-01T10:00:00Z", "01:00:00"),
                          slot_json("2030-07-02T10:00:00.250Z", "00:30:00"),
                          slot_json("2030-07-03T08:00:00+02:00", "1 02:00:00")});
    HttpReply r = call("POST", "/", alice(),
                       json{{"title", kTitle}, {"parties", {alice_.email, guest_}}, {"slots", slots_}});
    ASSERT_EQ(r.status, 201) << r;
    id_ = std::to_string(r.j()["id"].get<long long>());
  }

  HttpReply call(const std::string& method, const std::string& path, const std::string& authorization = "",
                 const std::optional<json>& body = std::nullopt, httplib::Headers extra = {}) {
    return http_call(stack(), {method, path, authorization, json_body(body), std::move(extra)});
  }
  std::string alice() const { return basic_auth(alice_.email, alice_.password); }
  std::string staff() const { return basic_auth(staff_.email, staff_.password); }

  json log_entries() {
    HttpReply r = call("GET", "/" + id_ + "/log/?limit=1000", staff());
    EXPECT_EQ(r.status, 200) << r;
    return r.status == 200 ? r.j()["entries"] : json::array();
  }

  // Alice notifies the guest; the token mailed to the guest.
  std::string guest_token() { return notify_for_token(stack(), id_, alice(), guest_, slots_); }

  // A refused call: the status, a JSON body with "detail", nothing logged.
  void expect_refused(const HttpReply& r, int status, std::size_t log_size, const std::string& what) {
    EXPECT_EQ(r.status, status) << what << ": " << r;
    EXPECT_EQ(r.header("Content-Type"), "application/json") << what;
    EXPECT_TRUE(r.j().contains("detail")) << what << ": " << r;
    EXPECT_TRUE(r.header("Content-Disposition").empty()) << what;
    EXPECT_EQ(log_entries().size(), log_size) << what << " logged something";
  }

  // The event as the event service answers it (calendar_sequence and creator
  // are not in the REST representation).
  ev1::Event grpc_event() {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(15));
    context.AddMetadata("authorization", alice());
    ev1::GetEventRequest request;
    request.set_id(std::stoll(id_));
    ev1::Event event;
    const grpc::Status status =
        ev1::EventService::NewStub(stack().events_channel())->GetEvent(&context, request, &event);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return event;
  }

  // The agreed document: one CONFIRMED VEVENT, the invitation's UID and
  // slot, SEQUENCE the event's calendar_sequence, the creator as ORGANIZER.
  void expect_agreed(const json& ics, const json& invitation, std::int64_t sequence) {
    EXPECT_EQ(ics["method"], "PUBLISH");
    EXPECT_TRUE(ics["crlf_only"].get<bool>());
    EXPECT_LE(ics["max_line_octets"].get<int>(), 75);
    ASSERT_EQ(ics["events"].size(), 1u) << ics.dump();
    const json& event = ics["events"][0];
    EXPECT_EQ(event["status"], "CONFIRMED");
    EXPECT_EQ(event["uid"], "event-" + id_ + "@calndro");
    EXPECT_EQ(event["uid"], invitation["uid"]);
    EXPECT_EQ(event["sequence"], sequence);
    EXPECT_EQ(event["sequence"], invitation["sequence"]);
    EXPECT_EQ(event["dtstart"], "2030-07-02T10:00:00Z");
    EXPECT_EQ(event["dtend"], "2030-07-02T10:30:01Z");
    EXPECT_EQ(event["dtstart"], invitation["dtstart"]);
    EXPECT_EQ(event["dtend"], invitation["dtend"]);
    EXPECT_EQ(event["summary"], kTitle);
    EXPECT_EQ(event["organizer"], alice_.email);
    EXPECT_EQ(event["organizer"], invitation["organizer"]);
    EXPECT_EQ(event["url"], stack().link_base() + "/" + id_ + "/");
    EXPECT_TRUE(event["attendees"].empty()) << "PUBLISH names no attendee";
  }

  // The calendar entry of the guest's latest mail, and the token of its link.
  std::pair<json, std::string> guest_invitation(std::size_t mails) {
    const auto received = stack().smtp().wait_for_to(guest_, mails, 30s);
    const json summary = summarize_calendar_mail(received.back().raw);
    EXPECT_EQ(summary["calendar"]["events"].size(), 1u) << summary.dump();
    const json entry =
        summary["calendar"]["events"].empty() ? json::object() : summary["calendar"]["events"][0];
    const std::string url = entry.value("url", "");
    const std::size_t at = url.find("?et=");
    return {entry, at == std::string::npos ? "" : url.substr(at + 4)};
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
    EXPECT_EQ(event["organizer"], alice_.email) << "the creator (RFC 5546 PUBLISH asks for one)";
    EXPECT_TRUE(event["attendees"].empty());
    EXPECT_EQ(event["url"], stack().link_base() + "/" + id_ + "/");
    EXPECT_NE(event["description"].get<std::string>().find(stack().link_base() + "/" + id_ + "/"),
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

TEST_F(EventCalendarHttp, AnAgreedEventIsTheConfirmedEntryOfItsInvitations) {
  ASSERT_TRUE(stack().has_notify()) << "calndro-notify is not built: the invitation is needed";
  HttpReply agreed = call("POST", "/" + id_ + "/agree/", alice(), json{{"slot", slots_[1]}});
  ASSERT_EQ(agreed.status, 200) << agreed;
  EXPECT_FALSE(agreed.j().contains("creator")) << "the REST shape is SPEC §3's";
  const auto [invitation, token] = guest_invitation(1);
  ASSERT_EQ(token.size(), 40u) << invitation.dump();
  const ev1::Event event = grpc_event();
  EXPECT_EQ(event.creator(), alice_.email);
  EXPECT_EQ(event.calendar_sequence(), 1);

  HttpReply r = call("GET", "/" + id_ + "/event.ics", alice());
  ASSERT_EQ(r.status, 200) << r;
  expect_agreed(summarize_ics(r.body), invitation, event.calendar_sequence());

  // The guest, by the token of the invitation's link: the same entry, a VIEW.
  HttpReply by_token = call("GET", "/" + id_ + "/event.ics?et=" + token);
  ASSERT_EQ(by_token.status, 200) << by_token;
  expect_agreed(summarize_ics(by_token.body), invitation, event.calendar_sequence());
  EXPECT_EQ(by_token.body.find(token), std::string::npos);
  const json entries = log_entries();
  EXPECT_EQ(entries.back()["occurrence"], "VIEW");
  EXPECT_EQ(entries.back()["effector"], guest_);
  EXPECT_TRUE(entries.back()["data"].contains("token")) << entries.back();
}

TEST_F(EventCalendarHttp, ANewTitleAndReopenFollowTheInvitations) {
  ASSERT_TRUE(stack().has_notify()) << "calndro-notify is not built: the invitation is needed";
  ASSERT_EQ(call("POST", "/" + id_ + "/agree/", alice(), json{{"slot", slots_[1]}}).status, 200);
  HttpReply renamed = call("PATCH", "/" + id_ + "/", alice(), json{{"title", kTitle + " (2)"}});
  ASSERT_EQ(renamed.status, 202) << renamed;
  const auto [invitation, token] = guest_invitation(2);
  EXPECT_EQ(invitation["sequence"], 2);
  HttpReply r = call("GET", "/" + id_ + "/event.ics?et=" + token);
  ASSERT_EQ(r.status, 200) << r;
  const json ics = summarize_ics(r.body);
  ASSERT_EQ(ics["events"].size(), 1u);
  EXPECT_EQ(ics["events"][0]["sequence"], grpc_event().calendar_sequence());
  EXPECT_EQ(ics["events"][0]["sequence"], 2);
  EXPECT_EQ(ics["events"][0]["uid"], invitation["uid"]);
  EXPECT_EQ(ics["events"][0]["summary"], kTitle + " (2)");

  ASSERT_EQ(call("POST", "/" + id_ + "/reopen/", alice()).status, 200);
  HttpReply reopened = call("GET", "/" + id_ + "/event.ics", alice());
  ASSERT_EQ(reopened.status, 200) << reopened;
  const json open = summarize_ics(reopened.body);
  ASSERT_EQ(open["events"].size(), 3u) << "one per slot again";
  for (const json& entry : open["events"]) {
    EXPECT_EQ(entry["status"], "TENTATIVE");
    EXPECT_NE(entry["uid"], invitation["uid"]);
    EXPECT_EQ(entry["organizer"], alice_.email);
  }
}

}  // namespace
