// Agree and reopen over HTTP and gRPC (SPEC §2 "who may agree", §3 the
// agree/reopen rows and the event's state, §5 AGREE entries, §6 calendar
// mails): the state the API shows, the log, the mails every party gets, the
// calendar intents in the outbox, 403/409/412, and `calndro-admin check`.
//
// What the event service controls: one mail per party per change, and that
// the pending notification carried the calendar. End to end, every party's
// mail is read back by an independent parser (tests/support/calendar.h):
// the calendar part, its SEQUENCE growing across agree, title change and
// reopen, and the recipient's own working link.
#include <gmock/gmock.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <thread>

#include "calndro/events/v1/events.grpc.pb.h"
#include "common/grpc/rich_status.h"
#include "support/calendar.h"
#include "support/http_call.h"
#include "support/stack.h"

using json = nlohmann::json;
using namespace calndro::testing;
using ::testing::HasSubstr;
namespace ev1 = calndro::events::v1;

namespace {

class Agree : public StackTest {
 protected:
  void prepare() override {
    stack().require_notify("the agree tests need it");
    alice_ = stack().create_user(unique_email("aalice"), "alice-Pass-1");
    bob_ = stack().create_user(unique_email("abob"), "bob-Pass-1");
    stranger_ = stack().create_user(unique_email("astranger"), "stranger-Pass-1");
    staff_ = stack().create_user(unique_email("astaff"), "staff-Pass-1", /*staff=*/true);
    guest_ = unique_email("aguest");
    slots_ = json::array(
        {slot_json("2030-07-01T10:00:00Z", "01:00:00"), slot_json("2030-07-02T10:00:00Z", "00:30:00")});
    HttpReply r = call("POST", "/", alice(),
                       json{{"title", "tea"}, {"parties", {bob_.email, guest_}}, {"slots", slots_}});
    ASSERT_EQ(r.status, 201) << r;
    event_ = r.j();
    id_ = std::to_string(event_["id"].get<long long>());
    parties_ = {alice_.email, bob_.email, guest_};
  }

  HttpReply call(const std::string& method, const std::string& path, const std::string& authorization = "",
                 const std::optional<json>& body = std::nullopt, httplib::Headers extra = {}) {
    return http_call(stack(), {method, path, authorization, json_body(body), std::move(extra)});
  }

  std::string alice() const { return basic_auth(alice_.email, alice_.password); }
  std::string bob() const { return basic_auth(bob_.email, bob_.password); }
  std::string staff() const { return basic_auth(staff_.email, staff_.password); }

  HttpReply agree(const std::string& authorization, const json& which, const std::string& query = "",
                  httplib::Headers extra = {}) {
    return call("POST", "/" + id_ + "/agree/" + query, authorization, json{{"slot", which}},
                std::move(extra));
  }

  // `sender` notifies `who`; returns the token mailed to `who`.
  std::string token_for(const std::string& sender, const std::string& who) {
    return notify_for_token(stack(), id_, sender, who, slots_);
  }

  // The calendar intents of the event, oldest first: method, sequence,
  // without_link, recipients, sender, the slot's begin.
  std::vector<std::vector<std::string>> calendar_intents() {
    return stack().db().query(
        "SELECT request->'calendar'->>'method', request->'calendar'->>'sequence', "
        "coalesce(request->'calendar'->>'withoutLink', 'false'), recipients::text, request->>'sender', "
        "request->'calendar'->'slot'->>'begin', request->'calendar'->>'uid', "
        "request->'calendar'->>'organizer', "
        "request->'calendar'->'attendees' = recipients FROM events.pending_notifications "
        "WHERE event_id = " +
        id_ + " AND request ? 'calendar' ORDER BY created_at, (request->'calendar'->>'sequence')::bigint");
  }

  size_t mails_to(const std::string& who) { return stack().smtp().messages_to(who).size(); }

  // The n-th mail (1-based) of every party, once each party has n.
  std::map<std::string, MailMessage> nth_mails(size_t n) {
    std::map<std::string, MailMessage> mails;
    for (const auto& party : parties_) {
      mails[party] = stack().smtp().wait_for_to(party, n, 30s).at(n - 1);
    }
    wait_mail_settled(stack(), id_);
    for (const auto& party : parties_) {
      EXPECT_EQ(mails_to(party), n) << party << ": one mail per party per change";
    }
    return mails;
  }

  // Once every party has its n-th mail (one per change) and the relay is
  // done: the event's n-th calendar intent, which must be its last (method,
  // sequence, without_link, recipients, sender, begin, ...; blanks if none).
  std::vector<std::string> nth_calendar_intent(size_t n) {
    nth_mails(n);
    const auto intents = calendar_intents();
    EXPECT_EQ(intents.size(), n);
    return intents.size() == n ? intents[n - 1] : std::vector<std::string>(9);
  }

  // What every calendar mail of the event must be (SPEC §6): multipart with a
  // text and a calendar part of `method`, one VEVENT with the event's UID,
  // the agreed slot (slots_[0]), `sequence`, `title`, the creator as
  // ORGANIZER and one ATTENDEE per party. Returns that VEVENT.
  json expect_calendar_mail(const MailMessage& mail, const std::string& method, int sequence,
                            const std::string& title) {
    const json summary = summarize_calendar_mail(mail.raw);
    EXPECT_EQ(summary["content_type"], "multipart/alternative") << mail.raw;
    EXPECT_EQ(summary["parts"], json({"text/plain", "text/calendar"}));
    EXPECT_THAT(summary["calendar_content_type"].get<std::string>(), HasSubstr("method=\"" + method + "\""));
    const json& calendar = summary["calendar"];
    EXPECT_EQ(calendar["method"], method);
    EXPECT_TRUE(calendar["crlf_only"].get<bool>());
    EXPECT_LE(calendar["max_line_octets"].get<int>(), 75);
    if (calendar["events"].size() != 1u) {
      ADD_FAILURE() << "not one VEVENT: " << calendar.dump();
      return json::object();
    }
    const json event = calendar["events"][0];
    EXPECT_EQ(event["uid"], "event-" + id_ + "@calndro");
    EXPECT_EQ(event["sequence"], sequence);
    EXPECT_EQ(event["status"], method == "CANCEL" ? "CANCELLED" : "CONFIRMED");
    EXPECT_EQ(event["dtstart"], "2030-07-01T10:00:00Z");
    EXPECT_EQ(event["dtend"], "2030-07-01T11:00:00Z");
    EXPECT_EQ(event["summary"], title);
    EXPECT_EQ(event["organizer"], alice_.email);
    std::vector<std::string> attendees;
    for (const json& attendee : event["attendees"]) {
      attendees.push_back(attendee["email"].get<std::string>());
      EXPECT_EQ(attendee["partstat"], "NEEDS-ACTION");
      EXPECT_EQ(attendee["rsvp"], "TRUE");
    }
    EXPECT_EQ(json(attendees), json(parties_)) << "one ATTENDEE per party";
    return event;
  }

  // The calendar's URL is the recipient's own link, and its token opens the event.
  void expect_own_working_link(const json& event, const std::string& party) {
    const std::string prefix = stack().link_base() + "/" + id_ + "/?et=";
    const std::string url = event["url"].is_string() ? event["url"].get<std::string>() : "";
    ASSERT_TRUE(url.starts_with(prefix)) << party << ": " << url;
    const std::string token = url.substr(prefix.size());
    ASSERT_TRUE(std::regex_match(token, std::regex("[0-9a-f]{40}"))) << party << ": " << url;
    HttpReply opened = call("GET", "/" + id_ + "/?et=" + token);
    EXPECT_EQ(opened.status, 200) << party << ": " << opened;
    const auto views = log_entries("VIEW");
    ASSERT_FALSE(views.empty());
    EXPECT_EQ(views.back()["effector"], party) << "the link is the recipient's own";
  }

  std::vector<json> log_entries(const std::string& occurrence) {
    std::vector<json> found;
    const json log = call("GET", "/" + id_ + "/log/", alice()).j();
    for (const auto& entry : log["entries"]) {
      if (entry["occurrence"] == occurrence) {
        found.push_back(entry);
      }
    }
    return found;
  }

  User alice_, bob_, stranger_, staff_;
  std::string guest_, id_;
  std::vector<std::string> parties_;
  json slots_, event_;
};

TEST_F(Agree, AnOpenEventShowsItsStateAndCalendarLink) {
  EXPECT_EQ(event_["state"], "open");
  EXPECT_TRUE(event_["agreed_slot"].is_null());
  EXPECT_EQ(event_["ics_url"], stack().base_url() + "/" + id_ + "/event.ics");
}

TEST_F(Agree, TheCreatorAgreesAndEveryPartyIsMailedTheInvitation) {
  // Another spelling of the first slot: equal as instant and duration.
  HttpReply r = agree(alice(), slot_json("2030-07-01T12:00+02:00", "PT1H"));
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.header("ETag"), "\"2\"");
  json agreed = r.j();
  EXPECT_EQ(agreed["state"], "agreed");
  EXPECT_EQ(agreed["agreed_slot"], slots_[0]);
  EXPECT_EQ(agreed["slots"], slots_) << "agreeing keeps the proposal";
  EXPECT_EQ(agreed["ics_url"], stack().base_url() + "/" + id_ + "/event.ics");

  HttpReply seen = call("GET", "/" + id_ + "/", bob());
  EXPECT_EQ(seen.j()["state"], "agreed");
  EXPECT_EQ(seen.j()["agreed_slot"], slots_[0]);
  bool listed = false;
  const json list = call("GET", "/", bob()).j();
  for (const auto& event : list) {
    if (std::to_string(event["id"].get<long long>()) == id_) {
      listed = event["state"] == "agreed" && event["agreed_slot"] == slots_[0];
    }
  }
  EXPECT_TRUE(listed);

  const auto agrees = log_entries("AGREE");
  ASSERT_EQ(agrees.size(), 1u);
  EXPECT_EQ(agrees[0]["effector"], alice_.email);
  EXPECT_EQ(agrees[0]["data"], json({{"slot", slots_[0]}}));
  EXPECT_EQ(agrees[0]["slots"], slots_);

  for (const auto& [party, mail] : nth_mails(1)) {
    EXPECT_THAT(mail.header("From"), HasSubstr(alice_.email)) << party;
  }
  const auto intent = nth_calendar_intent(1);
  EXPECT_EQ(intent[0], "METHOD_REQUEST");
  EXPECT_EQ(intent[1], "1");
  EXPECT_EQ(intent[2], "false");
  EXPECT_EQ(json::parse(intent[3]), json(parties_));
  EXPECT_EQ(intent[4], alice_.email);
  EXPECT_EQ(intent[5], "2030-07-01T10:00:00Z");
  EXPECT_EQ(intent[6], "event-" + id_ + "@calndro");
  EXPECT_EQ(intent[7], alice_.email);
  EXPECT_EQ(intent[8], "t") << "one ATTENDEE per party";
  const CommandResult check = stack().admin({"check"});
  EXPECT_EQ(check.exit_code, 0) << check.output();
}

// Each party's invitation, read back: a REQUEST of the agreed slot, the
// creator as organizer, every party as attendee, and the recipient's own
// link, whose token works.
TEST_F(Agree, EveryPartysInvitationIsACalendarRequestWithTheirOwnLink) {
  ASSERT_EQ(agree(alice(), slot_json("2030-07-01T12:00+02:00", "PT1H")).status, 200);
  for (const auto& [party, mail] : nth_mails(1)) {
    EXPECT_THAT(mail.raw, HasSubstr("method=REQUEST")) << party;
    const json event = expect_calendar_mail(mail, "REQUEST", 1, "tea");
    expect_own_working_link(event, party);
  }
}

// SEQUENCE grows with each mail of the same UID: agree 1, a new title while
// agreed 2 (a REQUEST with the new SUMMARY), reopen 3 (a CANCEL, with link).
TEST_F(Agree, TheCalendarSequenceGrowsFromAgreeToATitleChangeToReopen) {
  ASSERT_EQ(agree(alice(), slots_[0]).status, 200);
  for (const auto& [party, mail] : nth_mails(1)) {
    expect_calendar_mail(mail, "REQUEST", 1, "tea");
  }
  ASSERT_EQ(call("PATCH", "/" + id_ + "/", alice(), json{{"title", "tea at five"}}).status, 202);
  for (const auto& [party, mail] : nth_mails(2)) {
    const json event = expect_calendar_mail(mail, "REQUEST", 2, "tea at five");
    expect_own_working_link(event, party);
  }
  ASSERT_EQ(call("POST", "/" + id_ + "/reopen/", alice()).status, 200);
  for (const auto& [party, mail] : nth_mails(3)) {
    EXPECT_THAT(mail.raw, HasSubstr("method=CANCEL")) << party;
    const json event = expect_calendar_mail(mail, "CANCEL", 3, "tea at five");
    expect_own_working_link(event, party);
  }
}

TEST_F(Agree, OnlyTheCreatorAndStaffMayAgreeOrReopen) {
  const std::string bob_key = token_for(alice(), bob_.email);
  const std::string guest_key = token_for(alice(), guest_);
  const json first = slots_[0];
  EXPECT_EQ(agree(bob(), first).status, 403);
  EXPECT_EQ(agree("", first, "?et=" + bob_key).status, 403);
  EXPECT_EQ(agree("", first, "", {{"X-Email-Token", guest_key}}).status, 403);
  EXPECT_EQ(agree(basic_auth(stranger_.email, stranger_.password), first).status, 403);
  HttpReply anonymous = agree("", first);
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(anonymous.header("WWW-Authenticate"), "Basic realm=\"calndro\"");
  EXPECT_TRUE(log_entries("AGREE").empty());

  ASSERT_EQ(agree(staff(), first).status, 200);
  EXPECT_EQ(call("POST", "/" + id_ + "/reopen/", bob()).status, 403);
  EXPECT_EQ(call("POST", "/" + id_ + "/reopen/?et=" + guest_key).status, 403);
  EXPECT_EQ(call("GET", "/" + id_ + "/", alice()).j()["state"], "agreed");
  HttpReply reopened = call("POST", "/" + id_ + "/reopen/", staff());
  EXPECT_EQ(reopened.status, 200) << reopened;
  EXPECT_EQ(reopened.j()["state"], "open");
}

// The creator by an email token issued to the creator's email (here: the
// link Bob's notify mailed to Alice), with the token as the seed sends it.
TEST_F(Agree, TheCreatorAgreesWithTheLinkAnotherPartyMailed) {
  const std::string key = token_for(bob(), alice_.email);
  HttpReply r = call("POST", "/" + id_ + "/agree/", "", json{{"slot", slots_[1]}, {"et", key}});
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.j()["agreed_slot"], slots_[1]);
  const auto agrees = log_entries("AGREE");
  ASSERT_EQ(agrees.size(), 1u);
  EXPECT_EQ(agrees[0]["effector"], alice_.email);
  ASSERT_TRUE(agrees[0]["data"].contains("token"));
  EXPECT_NE(agrees[0]["data"]["token"], key) << "a fingerprint, never the token";
  EXPECT_EQ(r.body.find(key), std::string::npos);
}

TEST_F(Agree, ASlotThatIsNotTheEventsIsRefusedAndChangesNothing) {
  HttpReply other = agree(alice(), slot_json("2030-07-01T10:00:00Z", "00:30"));
  EXPECT_EQ(other.status, 400) << other;
  EXPECT_TRUE(other.j().contains("slot")) << other;
  HttpReply missing = call("POST", "/" + id_ + "/agree/", alice(), json::object());
  EXPECT_EQ(missing.status, 400) << missing;
  EXPECT_TRUE(missing.j().contains("slot")) << missing;
  HttpReply garbage = agree(alice(), slot_json("2030-02-30T10:00:00Z", "01:00"));
  EXPECT_EQ(garbage.status, 400) << garbage;
  EXPECT_TRUE(garbage.j().contains("slot")) << garbage;
  EXPECT_EQ(call("GET", "/" + id_ + "/", alice()).j()["state"], "open");
  EXPECT_TRUE(log_entries("AGREE").empty());
  EXPECT_TRUE(calendar_intents().empty());
}

TEST_F(Agree, WhileAgreedSlotsAre409ATitleChangeMailsAgainAndStaleVersionsStay412) {
  ASSERT_EQ(agree(alice(), slots_[1]).status, 200);
  HttpReply narrowed = call("PATCH", "/" + id_ + "/", bob(), json{{"slots", json::array({slots_[1]})}});
  EXPECT_EQ(narrowed.status, 409) << narrowed;
  EXPECT_THAT(narrowed.j().value("detail", ""), HasSubstr("reopen"));
  HttpReply stale = call("PATCH", "/" + id_ + "/", bob(), json{{"slots", json::array({slots_[1]})}},
                         {{"If-Match", "\"1\""}});
  EXPECT_EQ(stale.status, 412) << stale;
  EXPECT_EQ(stale.j()["event"]["state"], "agreed");
  EXPECT_EQ(stale.j()["event"]["agreed_slot"], slots_[1]);
  EXPECT_EQ(stale.header("ETag"), "\"2\"");

  HttpReply renamed = call("PATCH", "/" + id_ + "/", alice(), json{{"title", "tea at five"}});
  ASSERT_EQ(renamed.status, 202) << renamed;
  EXPECT_EQ(renamed.j()["state"], "agreed");
  EXPECT_EQ(renamed.header("ETag"), "\"3\"");
  const auto intent = nth_calendar_intent(2);
  EXPECT_EQ(intent[0], "METHOD_REQUEST");
  EXPECT_EQ(intent[1], "2");
  EXPECT_EQ(stack().db().scalar("SELECT request->>'eventTitle' FROM events.pending_notifications WHERE "
                                "request->'calendar'->>'sequence' = '2' AND event_id = " +
                                id_),
            "tea at five");
  EXPECT_EQ(call("GET", "/" + id_ + "/", alice()).j()["slots"], slots_) << "the 409 changed nothing";
}

// A new title of an agreed event re-invites every party, From the creator:
// only the creator and staff give one (SPEC §2). Another party, by password
// or by the link's token, gets 403, and nothing is written or queued.
TEST_F(Agree, OnlyTheCreatorAndStaffRenameAnAgreedEvent) {
  const std::string guest_key = token_for(alice(), guest_);
  ASSERT_EQ(call("PATCH", "/" + id_ + "/", bob(), json{{"title", "tea for two"}}).status, 202)
      << "while open, any party renames";
  ASSERT_EQ(agree(alice(), slots_[0]).status, 200);
  const auto outbox = [&] {
    return stack().db().scalar("SELECT count(*) FROM events.pending_notifications WHERE event_id = " + id_);
  };
  const std::string queued = outbox();
  const size_t updates = log_entries("UPDATE").size();
  HttpReply by_party = call("PATCH", "/" + id_ + "/", bob(), json{{"title", "bob's tea"}});
  EXPECT_EQ(by_party.status, 403) << by_party;
  EXPECT_TRUE(by_party.j().contains("detail")) << by_party;
  HttpReply by_token = call("PATCH", "/" + id_ + "/", "", json{{"title", "guest's tea"}, {"et", guest_key}});
  EXPECT_EQ(by_token.status, 403) << by_token;
  const json now = call("GET", "/" + id_ + "/", alice()).j();
  EXPECT_EQ(now["title"], "tea for two");
  EXPECT_EQ(outbox(), queued);
  EXPECT_EQ(log_entries("UPDATE").size(), updates);

  EXPECT_EQ(call("PATCH", "/" + id_ + "/", staff(), json{{"title", "staff tea"}}).status, 202);
  EXPECT_EQ(call("PATCH", "/" + id_ + "/", alice(), json{{"title", "tea at five"}}).status, 202);
  EXPECT_EQ(std::stoi(outbox()), std::stoi(queued) + 2);
}

TEST_F(Agree, ReopenCancelsAndAnOpenEventCannotBeReopened) {
  HttpReply open = call("POST", "/" + id_ + "/reopen/", alice());
  EXPECT_EQ(open.status, 409) << open;
  ASSERT_EQ(agree(alice(), slots_[0]).status, 200);
  HttpReply reopened = call("POST", "/" + id_ + "/reopen/", alice(), std::nullopt, {{"If-Match", "\"2\""}});
  ASSERT_EQ(reopened.status, 200) << reopened;
  EXPECT_EQ(reopened.header("ETag"), "\"3\"");
  EXPECT_EQ(reopened.j()["state"], "open");
  EXPECT_TRUE(reopened.j()["agreed_slot"].is_null());
  const auto updates = log_entries("UPDATE");
  ASSERT_FALSE(updates.empty());
  EXPECT_EQ(updates.back()["data"], json({{"reopened", true}}));
  EXPECT_EQ(updates.back()["effector"], alice_.email);
  const auto intent = nth_calendar_intent(2);
  EXPECT_EQ(intent[0], "METHOD_CANCEL");
  EXPECT_EQ(intent[1], "2");
  EXPECT_EQ(intent[5], "2030-07-01T10:00:00Z");
  EXPECT_EQ(json::parse(intent[3]), json(parties_));
  HttpReply narrowed = call("PATCH", "/" + id_ + "/", bob(), json{{"slots", json::array({slots_[1]})}});
  EXPECT_EQ(narrowed.status, 202) << "reopened: the slots may change again; " << narrowed;
  HttpReply stale =
      call("POST", "/" + id_ + "/agree/", alice(), json{{"slot", slots_[1]}}, {{"If-Match", "\"3\""}});
  EXPECT_EQ(stale.status, 412) << stale;
  EXPECT_EQ(stale.j()["event"]["slots"], json::array({slots_[1]}));
}

TEST_F(Agree, DeletingAnAgreedEventMailsACancellationWithoutALink) {
  ASSERT_EQ(agree(alice(), slots_[0]).status, 200);
  ASSERT_EQ(call("DELETE", "/" + id_ + "/", staff()).status, 204);
  const auto intent = nth_calendar_intent(2);
  EXPECT_EQ(intent[0], "METHOD_CANCEL");
  EXPECT_EQ(intent[1], "2");
  EXPECT_EQ(intent[2], "true");
  for (const auto& [party, mail] : nth_mails(2)) {
    const json event = expect_calendar_mail(mail, "CANCEL", 2, "tea");
    EXPECT_TRUE(event["url"].is_null()) << party << ": " << event["url"];
    EXPECT_TRUE(event["description"].is_null()) << party;
    EXPECT_EQ(mail.text().find("?et="), std::string::npos) << party << ": no link in the text either";
  }
  const CommandResult check = stack().admin({"check"});
  EXPECT_EQ(check.exit_code, 0) << check.output();
}

TEST_F(Agree, RoutesRedirectAndRefuseOtherMethods) {
  for (const char* route : {"agree", "reopen"}) {
    HttpReply redirect = call("POST", "/" + id_ + "/" + route + "?et=x");
    EXPECT_EQ(redirect.status, 301) << route;
    EXPECT_EQ(redirect.header("Location"), "/" + id_ + "/" + route + "/?et=x") << route;
    HttpReply refused = call("GET", "/" + id_ + "/" + route + "/", alice());
    EXPECT_EQ(refused.status, 405) << route;
    EXPECT_EQ(refused.header("Allow"), "POST") << route;
  }
  EXPECT_TRUE(log_entries("AGREE").empty());
}

// The check pairs each calendar intent with the entry of its change: an
// intent moved away from its entry is named, both ways.
TEST_F(Agree, TheConsistencyCheckPairsCalendarMailsWithTheirEntries) {
  ASSERT_EQ(agree(alice(), slots_[0]).status, 200);
  wait_mail_settled(stack(), id_);
  const std::string shift =
      "UPDATE events.pending_notifications SET created_at = created_at + interval '1 second' * %d "
      "WHERE event_id = " +
      id_ + " AND request ? 'calendar'";
  const auto shifted = [&](int seconds) {
    std::string sql = shift;
    sql.replace(sql.find("%d"), 2, std::to_string(seconds));
    stack().db().exec(sql);
  };
  shifted(1);
  const CommandResult broken = stack().admin({"check"});
  shifted(-1);
  EXPECT_EQ(broken.exit_code, 1) << broken.output();
  EXPECT_THAT(broken.err, HasSubstr("event " + id_ + ": calendar mail ev-" + id_));
  EXPECT_THAT(broken.err, HasSubstr("has no AGREE or UPDATE log entry"));
  EXPECT_THAT(broken.err, HasSubstr("event " + id_ + ": AGREE entry"));
  EXPECT_THAT(broken.err, HasSubstr("has no calendar mail"));
  EXPECT_THAT(broken.err, ::testing::Not(HasSubstr("NOTIFY log entries"))) << "not mistaken for a notify";
  const CommandResult repaired = stack().admin({"check"});
  EXPECT_EQ(repaired.exit_code, 0) << repaired.output();
}

// The same over gRPC, with credentials as metadata.
class AgreeGrpc : public Agree {
 protected:
  grpc::Status agree_rpc(const std::string& authorization, const json& which, ev1::Event* out) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(15));
    context.AddMetadata("authorization", authorization);
    ev1::AgreeEventRequest request;
    request.set_id(std::stoll(id_));
    google::protobuf::util::JsonStringToMessage(json{{"begin", which["begin"]}, {"duration", "3600s"}}.dump(),
                                                request.mutable_slot());
    return ev1::EventService::NewStub(stack().events_channel())->AgreeEvent(&context, request, out);
  }
};

TEST_F(AgreeGrpc, AgreeAndReopenEnforceTheTableAndSayWhyAPatchIsRefused) {
  ev1::Event event;
  const std::string bob_auth = basic_auth(bob_.email, bob_.password);
  const std::string alice_auth = basic_auth(alice_.email, alice_.password);
  EXPECT_EQ(agree_rpc(bob_auth, slots_[0], &event).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  const grpc::Status agreed = agree_rpc(alice_auth, slots_[0], &event);
  ASSERT_TRUE(agreed.ok()) << agreed.error_message();
  EXPECT_EQ(event.state(), ev1::EVENT_STATE_AGREED);
  EXPECT_EQ(event.calendar_sequence(), 1);
  EXPECT_EQ(event.version(), 2);
  EXPECT_EQ(event.agreed_slot().begin().seconds(), event.slots(0).begin().seconds());

  grpc::ClientContext context;
  context.AddMetadata("authorization", bob_auth);
  ev1::UpdateEventRequest update;
  update.set_id(event.id());
  update.mutable_slots();  // an empty slot set: still a change of the slots
  ev1::Event ignored;
  const grpc::Status refused =
      ev1::EventService::NewStub(stack().events_channel())->UpdateEvent(&context, update, &ignored);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(calndro::decode_details(refused).reason, calndro::kEventAgreedReason);

  grpc::ClientContext reopen_context;
  reopen_context.AddMetadata("authorization", alice_auth);
  ev1::ReopenEventRequest reopen;
  reopen.set_id(event.id());
  ev1::Event reopened;
  const grpc::Status status =
      ev1::EventService::NewStub(stack().events_channel())->ReopenEvent(&reopen_context, reopen, &reopened);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(reopened.state(), ev1::EVENT_STATE_OPEN);
  EXPECT_FALSE(reopened.has_agreed_slot());
  EXPECT_EQ(reopened.calendar_sequence(), 2);
}

}  // namespace
