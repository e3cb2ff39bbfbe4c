// Notify over HTTP: notify, the mail, and access by email token (SPEC §2's
// token-holder column, §3 notify, §5 fingerprints, §6 tokens and mail).
#include <gmock/gmock.h>
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <thread>

#include "calndro/events/v1/events.grpc.pb.h"
#include "support/http_call.h"
#include "support/stack.h"
#include "support/wait.h"

using json = nlohmann::json;
using namespace calndro::testing;
using ::testing::HasSubstr;

namespace {

using Resp = HttpReply;

class NotifyHttp : public StackTest {
 protected:
  void prepare() override {
    stack().require_notify("the notify tests need it");
    alice_ = stack().create_user(unique_email("nalice"), "alice-Pass-1");
    guest_ = unique_email("nguest");
    other_ = unique_email("nother");
    slots_ = json::array(
        {slot_json("2030-07-01T10:00:00Z", "01:00:00"), slot_json("2030-07-02T10:00:00Z", "00:30:00")});
    Resp r = call("POST", "/", basic_auth(alice_.email, alice_.password),
                  json{{"title", "tea"}, {"parties", {alice_.email, guest_, other_}}, {"slots", slots_}});
    ASSERT_EQ(r.status, 201) << r;
    event_ = r.j();
    id_ = std::to_string(event_["id"].get<long long>());
  }

  Resp call(const std::string& method, const std::string& path, const std::string& authorization = "",
            const std::optional<json>& body = std::nullopt, httplib::Headers extra = {}) {
    Resp r = http_call(stack(), {method, path, authorization, json_body(body), std::move(extra)});
    responses_ += r.body;
    for (const auto& [k, v] : r.headers) {
      responses_ += k + ": " + v + "\n";
    }
    return r;
  }
  std::string alice() { return basic_auth(alice_.email, alice_.password); }

  // Alice notifies `who`; returns the token mailed to `who`.
  std::string notify_and_read_token(const std::string& who) {
    size_t before = stack().smtp().messages_to(who).size();
    Resp r = call("POST", "/" + id_ + "/notify/", alice(), json{{"parties", {who}}, {"slots", slots_}});
    EXPECT_EQ(r.status, 202) << r;
    auto mails = stack().smtp().wait_for_to(who, before + 1, 30s);
    std::string text = mails.back().text();
    std::smatch m;
    std::regex link("(http://[^/\\s]+)/" + id_ + "/\\?et=([0-9a-f]{40})");
    EXPECT_TRUE(std::regex_search(text, m, link)) << "no link in the mail:\n" << text;
    return m.size() > 2 ? m[2].str() : "";
  }

  User alice_;
  std::string guest_, other_, id_;
  json slots_, event_;
  std::string responses_;
};

TEST_F(NotifyHttp, NotifySendsOneMailPerRecipientWithLinkAndToken) {
  Resp r =
      call("POST", "/" + id_ + "/notify/", alice(), json{{"parties", {guest_, other_}}, {"slots", slots_}});
  ASSERT_EQ(r.status, 202) << r;
  json j = r.j();
  EXPECT_EQ(j["parties"], json({guest_, other_}));
  EXPECT_EQ(j["slots"], slots_);
  EXPECT_EQ(j["sender"], alice_.email);
  EXPECT_EQ(j["event_url"], event_["url"]);
  EXPECT_EQ(j["log_url"], event_["log_url"]);
  EXPECT_EQ(j["notify_url"], event_["notify_url"]);
  for (const auto& who : {guest_, other_}) {
    auto mails = stack().smtp().wait_for_to(who, 1, 30s);
    ASSERT_EQ(mails.size(), 1u) << who;
    const auto& m = mails[0];
    EXPECT_THAT(m.header("To"), HasSubstr(who));
    EXPECT_THAT(m.header("From"), HasSubstr(alice_.email));
    EXPECT_EQ(m.header("Subject"), "[calndro] 'tea' updated");
    EXPECT_TRUE(
        std::regex_search(m.text(), std::regex(stack().link_base() + "/" + id_ + "/\\?et=[0-9a-f]{40}")))
        << m.text();
  }
  json log = call("GET", "/" + id_ + "/log/", alice()).j();
  int notifies = 0;
  for (const auto& e : log["entries"]) {
    if (e["occurrence"] == "NOTIFY") {
      ++notifies;
      EXPECT_EQ(e["effector"], alice_.email);
      EXPECT_EQ(e["data"]["sender"], alice_.email);
      EXPECT_FALSE(e["data"].contains("token")) << e;
    }
  }
  EXPECT_EQ(notifies, 2);
}

TEST_F(NotifyHttp, NotifyValidatesRecipientsAndSlots) {
  std::string path = "/" + id_ + "/notify/";
  Resp stale = call("POST", path, alice(), json{{"parties", {guest_}}, {"slots", json::array({slots_[0]})}});
  EXPECT_EQ(stale.status, 400) << stale;
  EXPECT_TRUE(stale.j().contains("slots")) << stale;
  Resp stranger = call("POST", path, alice(), json{{"parties", {"x@example.org"}}, {"slots", slots_}});
  EXPECT_EQ(stranger.status, 400) << stranger;
  EXPECT_TRUE(stranger.j().contains("parties")) << stranger;
  EXPECT_EQ(call("POST", path, alice(), json{{"parties", json::array()}, {"slots", slots_}}).status, 400);
  // The same set in another spelling is not stale.
  Resp ok = call(
      "POST", path, alice(),
      json{{"parties", {guest_}},
           {"slots",
            {slot_json("2030-07-02T12:00:00+02:00", "PT30M"), slot_json("2030-07-01T10:00:00", "01:00")}}});
  EXPECT_EQ(ok.status, 202) << ok;
}

TEST_F(NotifyHttp, TokenGrantsThePartysRightsOnItsEventOnly) {
  std::string key = notify_and_read_token(guest_);
  ASSERT_EQ(key.size(), 40u);
  std::string p = "/" + id_ + "/";
  EXPECT_EQ(call("GET", p + "?et=" + key).status, 200);
  EXPECT_EQ(call("GET", p, "", std::nullopt, {{"X-Email-Token", key}}).status, 200);
  EXPECT_EQ(call("GET", p, "", json{{"et", key}}).status, 200);
  Resp patched = call("PATCH", p, "", json{{"slots", json::array({slots_[1]})}, {"et", key}});
  EXPECT_EQ(patched.status, 202) << patched;
  EXPECT_EQ(call("GET", p + "log/?et=" + key).status, 200);
  Resp n = call("POST", p + "notify/?et=" + key, "",
                json{{"parties", {alice_.email}}, {"slots", json::array({slots_[1]})}});
  EXPECT_EQ(n.status, 202) << n;
  EXPECT_EQ(call("DELETE", p + "?et=" + key).status, 403);
  EXPECT_EQ(call("GET", "/?et=" + key).status, 403);
  EXPECT_EQ(call("POST", "/?et=" + key, "", json{{"parties", {guest_}}, {"slots", slots_}}).status, 403);

  // Another event: the token gives nothing there.
  Resp other = call("POST", "/", alice(), json{{"parties", {alice_.email, guest_}}, {"slots", slots_}});
  ASSERT_EQ(other.status, 201);
  std::string op = "/" + std::to_string(other.j()["id"].get<long long>()) + "/";
  EXPECT_EQ(call("GET", op + "?et=" + key).status, 403);
  EXPECT_EQ(call("GET", op + "log/", "", std::nullopt, {{"X-Email-Token", key}}).status, 403);
  EXPECT_EQ(call("PATCH", op, "", json{{"title", "x"}, {"et", key}}).status, 403);

  // The log names the token holder and a fingerprint, never the token.
  Resp log = call("GET", p + "log/", alice());
  ASSERT_EQ(log.status, 200);
  EXPECT_EQ(log.body.find(key), std::string::npos);
  bool fingerprinted = false;
  const json log_json = log.j();
  for (const auto& e : log_json["entries"]) {
    if (e["effector"] == guest_ && e["data"].contains("token")) {
      fingerprinted = true;
      std::string fp = e["data"]["token"];
      EXPECT_FALSE(fp.empty());
      EXPECT_LT(fp.size(), 40u);
      EXPECT_EQ(key.find(fp), std::string::npos) << "the fingerprint is a piece of the token";
    }
  }
  EXPECT_TRUE(fingerprinted) << log;
}

TEST_F(NotifyHttp, UnknownAndExpiredTokensAre401) {
  std::string p = "/" + id_ + "/";
  Resp unknown = call("GET", p + "?et=0123456789012345678901234567890123456789");
  EXPECT_EQ(unknown.status, 401) << unknown;
  EXPECT_EQ(unknown.header("WWW-Authenticate"), "Basic realm=\"calndro\"");
  std::string key = notify_and_read_token(guest_);
  ASSERT_EQ(call("GET", p + "?et=" + key).status, 200);
  stack().db().exec(
      "UPDATE notify.email_tokens SET expires_at = now() - interval '1 hour' WHERE event_id = " + id_);
  Resp expired = call("GET", p + "?et=" + key);
  EXPECT_EQ(expired.status, 401) << expired;
  EXPECT_EQ(expired.header("WWW-Authenticate"), "Basic realm=\"calndro\"");
  json j = expired.j();
  EXPECT_EQ(j.value("detail", ""), "Token expired");
  EXPECT_TRUE(
      std::regex_match(j.value("expires", ""), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z)")))
      << expired;
  // Credentials win over the expired token.
  EXPECT_EQ(call("GET", p + "?et=" + key, alice()).status, 200);
}

TEST_F(NotifyHttp, RawTokenIsNowhereButTheMail) {
  std::string key = notify_and_read_token(guest_);
  std::string p = "/" + id_ + "/";
  call("GET", p + "?et=" + key);
  call("PATCH", p, "", json{{"title", "tea time"}, {"et", key}});
  call("GET", p + "log/", "", std::nullopt, {{"X-Email-Token", key}});
  EXPECT_EQ(responses_.find(key), std::string::npos) << "a response echoed the token";
  // The outbox keeps the mail text only until it is sent.
  std::string leaks;
  EXPECT_TRUE(wait_until(
      [&] {
        leaks.clear();
        for (const auto& row :
             stack().db().query("SELECT table_schema || '.' || table_name FROM information_schema.tables "
                                "WHERE table_schema IN ('events', 'notify') AND table_type = 'BASE TABLE'")) {
          std::string n =
              stack().db().scalar("SELECT count(*) FROM " + row[0] + " t WHERE t::text LIKE '%" + key + "%'");
          if (n != "0") {
            leaks += row[0] + " ";
          }
        }
        return leaks.empty();
      },
      10s, "no table to hold the raw token"))
      << "the raw token is stored in: " << leaks;
  EXPECT_EQ(stack().events().log().find(key), std::string::npos) << "events log holds the token";
  EXPECT_EQ(stack().notify().log().find(key), std::string::npos) << "notify log holds the token";
  EXPECT_EQ(stack().gateway().log().find(key), std::string::npos) << "gateway log holds the token";
}

// A direct gRPC caller of the event service names no base for the links:
// the mail's link is built from notify's configured base. An older client
// may still send the removed link_base_url (field 6): it reaches no mail, or
// the caller could have other parties' tokens sent its way.
TEST_F(NotifyHttp, DirectGrpcMailLinksUseTheConfiguredBase) {
  using google::protobuf::util::TimeUtil;
  auto stub = calndro::events::v1::EventService::NewStub(stack().events_channel());
  calndro::events::v1::NotifyPartiesRequest req;
  req.set_id(std::stoll(id_));
  req.add_parties(guest_);
  for (const auto& s : slots_) {
    auto* out = req.add_slots();
    ASSERT_TRUE(TimeUtil::FromString(s["begin"].get<std::string>(), out->mutable_begin()));
  }
  *req.mutable_slots(0)->mutable_duration() = TimeUtil::SecondsToDuration(3600);
  *req.mutable_slots(1)->mutable_duration() = TimeUtil::SecondsToDuration(1800);
  req.GetReflection()->MutableUnknownFields(&req)->AddLengthDelimited(6, "http://evil.example");
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 15s);
  context.AddMetadata("authorization", alice());
  calndro::events::v1::NotifyPartiesResponse reply;
  const grpc::Status status = stub->NotifyParties(&context, req, &reply);
  ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();

  const auto mails = stack().smtp().wait_for_to(guest_, 1, 30s);
  const std::string text = mails.back().text();
  EXPECT_EQ(text.find("evil.example"), std::string::npos) << text;
  EXPECT_TRUE(std::regex_search(
      text, std::regex("\\n  " + stack().link_base() + "/" + id_ + "/\\?et=[0-9a-f]{40}\\n")))
      << text;
}

}  // namespace
