// Webhooks (SPEC §2's /webhooks/ row, §3, §11) on the real stack: a local
// receiver (tests/support/webhook_receiver.py, on 127.0.0.1, which the
// stack's CALNDRO_WEBHOOK_ALLOW lets through) gets each occurrence of the
// creator's events, signed, in version order, each checked by an
// independent implementation of the Standard Webhooks signature
// (tools/verify_webhook.py); a failed delivery is retried with the same
// webhook-id; every attempt is listed; the 400s, 401s, 403s and 404s; the
// address rules at registration and at delivery.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "calndro/events/v1/events.grpc.pb.h"
#include "support/http_call.h"
#include "support/stack.h"
#include "support/wait.h"

using json = nlohmann::json;
using namespace calndro::testing;
using ::testing::HasSubstr;

namespace {

const std::vector<std::string> kAllTypes = {"event.created",  "event.updated", "event.answered",
                                            "event.notified", "event.agreed",  "event.reopened",
                                            "event.deleted"};

// A webhook receiver on the loopback, recording what it gets.
class Receiver {
 public:
  Receiver(const std::filesystem::path& dir, const std::string& name, const std::string& plan = "200")
      : record_(dir / (name + ".jsonl")),
        process_("/usr/bin/python3",
                 {std::string(CALNDRO_SOURCE_DIR) + "/tests/support/webhook_receiver.py", "0",
                  record_.string(), plan},
                 Env{}, dir / (name + ".log")) {
    process_.start();
    port_ = process_.wait_reported_port("listening", 30s);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  std::filesystem::path record() const { return record_; }

  std::vector<json> requests() const {
    std::vector<json> out;
    std::ifstream in(record_);
    for (std::string line; std::getline(in, line);) {
      out.push_back(json::parse(line));
    }
    return out;
  }
  std::vector<json> wait_for(std::size_t n, std::chrono::milliseconds timeout = 30s) const {
    std::vector<json> got;
    EXPECT_TRUE(wait_until(
        [&] {
          got = requests();
          return got.size() >= n;
        },
        timeout, std::to_string(n) + " webhook requests at " + url()));
    return got;
  }

 private:
  std::filesystem::path record_;
  Process process_;
  int port_ = 0;
};

// tools/verify_webhook.py over what `receiver` got: its output, "" and a
// test failure when any delivery does not check out.
std::string verify_independently(const Receiver& receiver, const std::string& secret) {
  const std::string command = "/usr/bin/python3 " + std::string(CALNDRO_SOURCE_DIR) +
                              "/tools/verify_webhook.py " + secret + " " + receiver.record().string() +
                              " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  std::string output;
  char buffer[256];
  while (pipe != nullptr && std::fgets(buffer, sizeof buffer, pipe) != nullptr) {
    output += buffer;
  }
  const int status = pipe != nullptr ? ::pclose(pipe) : -1;
  EXPECT_EQ(status, 0) << output;
  return output;
}

class Webhooks : public SuiteStackTest<Webhooks> {
 public:
  static StackOptions options() {
    StackOptions options = prompt_mail_options({{"CALNDRO_WEBHOOK_FIRST_RETRY_MS", "300"},
                                                {"CALNDRO_WEBHOOK_RELAY_POLL_MS", "50"},
                                                {"CALNDRO_WEBHOOK_POLL_MS", "50"}});
    options.notify = StackOptions::Notify::kRequired;
    return options;
  }

 protected:
  void prepare() override {
    alice_ = stack().create_user(unique_email("whalice"), "alice-Pass-1");
    bob_ = stack().create_user(unique_email("whbob"), "bob-Pass-1");
    staff_ = stack().create_user(unique_email("whstaff"), "staff-Pass-1", /*staff=*/true);
  }

  HttpReply call(const std::string& method, const std::string& path, const User& who,
                 const std::optional<json>& body = std::nullopt) {
    return http_call(stack(), {.method = method,
                               .path = path,
                               .authorization = who.email.empty() ? "" : basic_auth(who.email, who.password),
                               .body = json_body(body)});
  }

  // A webhook of `who` for `url`; its answer (the secret in it).
  json register_webhook(const User& who, const std::string& url,
                        const std::optional<json>& types = std::nullopt) {
    json body = {{"url", url}};
    if (types) {
      body["types"] = *types;
    }
    HttpReply r = call("POST", "/webhooks/", who, body);
    EXPECT_EQ(r.status, 201) << r;
    return r.j();
  }

  std::string new_event(const User& creator, const std::vector<std::string>& parties) {
    HttpReply r = call("POST", "/", creator,
                       json{{"title", "standup"},
                            {"parties", parties},
                            {"slots",
                             {slot_json("2031-03-01T09:00:00Z", "00:30:00"),
                              slot_json("2031-03-02T09:00:00Z", "00:30:00")}}});
    EXPECT_EQ(r.status, 201) << r;
    return std::to_string(r.j().value("id", 0));
  }

  json deliveries(const User& who, const json& webhook) {
    HttpReply r =
        call("GET", "/webhooks/" + std::to_string(webhook["id"].get<long long>()) + "/deliveries/", who);
    EXPECT_EQ(r.status, 200) << r;
    return r.j();
  }

  // Takes event `id` (alice's, bob a party) through an update, an answer, a
  // notify, an agreement, a reopening and staff's deletion: six messages.
  void run_through_every_occurrence(const std::string& id) {
    const json slot = slot_json("2031-03-01T09:00:00Z", "00:30:00");
    ASSERT_EQ(call("PATCH", "/" + id + "/", alice_, json{{"title", "retro"}}).status, 202);
    ASSERT_EQ(call("PUT", "/" + id + "/answers/", alice_,
                   json{{"answers", json::array({json{{"slot", slot}, {"answer", "yes"}}})}})
                  .status,
              200);
    const json slots = {slot, slot_json("2031-03-02T09:00:00Z", "00:30:00")};
    ASSERT_EQ(
        call("POST", "/" + id + "/notify/", alice_, json{{"parties", {bob_.email}}, {"slots", slots}}).status,
        202);
    ASSERT_EQ(call("POST", "/" + id + "/agree/", alice_, json{{"slot", slot}}).status, 200);
    ASSERT_EQ(call("POST", "/" + id + "/reopen/", alice_, json::object()).status, 200);
    ASSERT_EQ(call("DELETE", "/" + id + "/", staff_).status, 204);
  }

  // Every attempt of `listed` is `webhook`'s first, answered 200.
  static void expect_first_attempts_delivered(const json& webhook, const json& listed) {
    for (const json& attempt : listed["deliveries"]) {
      EXPECT_EQ(attempt["webhook_id"], webhook["id"]);
      EXPECT_EQ(attempt["attempt"], 1);
      EXPECT_EQ(attempt["status"], 200);
      EXPECT_TRUE(attempt["error"].is_null());
      EXPECT_TRUE(attempt["at"].is_string());
    }
  }

  User alice_, bob_, staff_;
};

TEST_F(Webhooks, EveryOccurrenceOfTheCreatorsEventsArrivesSignedAndInVersionOrder) {
  Receiver receiver(stack().dir(), "order");
  const json webhook = register_webhook(alice_, receiver.url());
  EXPECT_EQ(webhook["url"], receiver.url());
  EXPECT_EQ(webhook["types"], json(kAllTypes)) << "no types: all of them";
  ASSERT_TRUE(webhook["secret"].is_string());
  const std::string secret = webhook["secret"];
  EXPECT_TRUE(secret.starts_with("whsec_")) << secret;
  EXPECT_EQ(secret.size(), 6U + 32U) << "base64 of 24 bytes";

  const std::string id = new_event(alice_, {bob_.email});
  ASSERT_NO_FATAL_FAILURE(run_through_every_occurrence(id));
  // Bob's own event is none of alice's webhook's business.
  new_event(bob_, {alice_.email});

  const std::vector<json> got = receiver.wait_for(7);
  std::this_thread::sleep_for(1s);  // nothing more comes
  ASSERT_EQ(receiver.requests().size(), 7U);
  const std::vector<std::pair<std::string, int>> expected = {
      {"event.created", 1}, {"event.updated", 2},  {"event.answered", 3}, {"event.notified", 3},
      {"event.agreed", 4},  {"event.reopened", 5}, {"event.deleted", 6}};
  std::set<std::string> ids;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const json body = json::parse(got[i]["body"].get<std::string>());
    EXPECT_EQ(body["type"], expected[i].first) << body;
    EXPECT_EQ(body["version"], expected[i].second) << body;
    EXPECT_TRUE(body["timestamp"].is_string()) << body;
    EXPECT_THAT(got[i]["headers"]["content-type"].get<std::string>(), HasSubstr("application/json"));
    EXPECT_TRUE(got[i]["headers"]["webhook-signature"].get<std::string>().starts_with("v1,"));
    ids.insert(got[i]["headers"]["webhook-id"].get<std::string>());
    if (expected[i].first != "event.deleted") {
      EXPECT_EQ(body["data"]["id"], std::stoll(id)) << body;
      EXPECT_EQ(body["data"]["url"].get<std::string>(), stack().link_base() + "/" + id + "/");
    }
  }
  EXPECT_EQ(ids.size(), 7U) << "one webhook-id per message";
  const json first = json::parse(got[0]["body"].get<std::string>());
  EXPECT_EQ(first["data"]["title"], "standup");
  EXPECT_THAT(first["data"]["parties"].get<std::vector<std::string>>(),
              ::testing::UnorderedElementsAre(alice_.email, bob_.email));
  EXPECT_EQ(json::parse(got[1]["body"].get<std::string>())["data"]["title"], "retro");
  EXPECT_EQ(json::parse(got[4]["body"].get<std::string>())["data"]["state"], "agreed");
  EXPECT_EQ(json::parse(got[6]["body"].get<std::string>())["data"], json({{"id", std::stoll(id)}}));

  const std::string checked = verify_independently(receiver, secret);
  EXPECT_EQ(std::count(checked.begin(), checked.end(), '\n'), 7) << checked;
  EXPECT_EQ(checked.find("bad"), std::string::npos) << checked;

  // The delivery log: every attempt, newest first.
  const json listed = deliveries(alice_, webhook);
  ASSERT_EQ(listed["deliveries"].size(), 7U) << listed;
  EXPECT_EQ(listed["deliveries"][0]["type"], "event.deleted");
  EXPECT_EQ(listed["deliveries"][6]["type"], "event.created");
  expect_first_attempts_delivered(webhook, listed);
}

TEST_F(Webhooks, OnlyTheTypesAskedForAreDelivered) {
  Receiver receiver(stack().dir(), "types");
  const json webhook =
      register_webhook(alice_, receiver.url(), json{"event.deleted", "event.created", "event.created"});
  EXPECT_EQ(webhook["types"], json({"event.created", "event.deleted"}));
  const std::string id = new_event(alice_, {bob_.email});
  ASSERT_EQ(call("PATCH", "/" + id + "/", alice_, json{{"title", "other"}}).status, 202);
  ASSERT_EQ(call("DELETE", "/" + id + "/", staff_).status, 204);
  const std::vector<json> got = receiver.wait_for(2);
  std::this_thread::sleep_for(1s);
  ASSERT_EQ(receiver.requests().size(), 2U);
  EXPECT_EQ(json::parse(got[0]["body"].get<std::string>())["type"], "event.created");
  EXPECT_EQ(json::parse(got[1]["body"].get<std::string>())["type"], "event.deleted");
  verify_independently(receiver, webhook["secret"]);
}

TEST_F(Webhooks, AFailedDeliveryIsRetriedWithTheSameIdAndALaterOneWaits) {
  Receiver receiver(stack().dir(), "retry", "500,200");
  const json webhook = register_webhook(alice_, receiver.url());
  const std::string id = new_event(alice_, {bob_.email});
  ASSERT_EQ(call("PATCH", "/" + id + "/", alice_, json{{"title", "second"}}).status, 202);
  const std::vector<json> got = receiver.wait_for(3);
  // created (500), created again (200), then updated: never the later one
  // while the earlier is being retried.
  const auto type_of = [](const json& request) {
    return json::parse(request["body"].get<std::string>())["type"];
  };
  EXPECT_EQ(type_of(got[0]), "event.created");
  EXPECT_EQ(type_of(got[1]), "event.created");
  EXPECT_EQ(type_of(got[2]), "event.updated");
  const std::string message = got[0]["headers"]["webhook-id"];
  EXPECT_EQ(got[1]["headers"]["webhook-id"], message);
  EXPECT_NE(got[2]["headers"]["webhook-id"], message);
  EXPECT_EQ(got[0]["body"], got[1]["body"]) << "a retry sends the same body";
  verify_independently(receiver, webhook["secret"]);

  json listed;
  EXPECT_TRUE(wait_until(
      [&] {
        listed = deliveries(alice_, webhook)["deliveries"];
        return listed.size() >= 3;
      },
      10s, "three recorded attempts"));
  ASSERT_EQ(listed.size(), 3U) << listed;
  EXPECT_EQ(listed[2]["attempt"], 1);
  EXPECT_EQ(listed[2]["status"], 500);
  EXPECT_EQ(listed[2]["message_id"], message);
  EXPECT_EQ(listed[1]["attempt"], 2);
  EXPECT_EQ(listed[1]["status"], 200);
  EXPECT_EQ(listed[1]["message_id"], message);
  EXPECT_EQ(listed[0]["type"], "event.updated");
  EXPECT_EQ(listed[0]["attempt"], 1);
}

TEST_F(Webhooks, RegistrationRefusesBadInputAndOtherCallers) {
  Receiver receiver(stack().dir(), "refusals");
  // No credentials: 401; wrong password: 401.
  EXPECT_EQ(call("POST", "/webhooks/", User{}, json{{"url", receiver.url()}}).status, 401);
  EXPECT_EQ(call("GET", "/webhooks/", User{}).status, 401);
  EXPECT_EQ(call("POST", "/webhooks/", User{alice_.email, "", "wrong"}, json{{"url", receiver.url()}}).status,
            401);
  // An email token holder: 403, with the token in any of its places.
  const std::string id = new_event(alice_, {bob_.email});
  const json slots = {slot_json("2031-03-01T09:00:00Z", "00:30:00"),
                      slot_json("2031-03-02T09:00:00Z", "00:30:00")};
  const std::string token =
      notify_for_token(stack(), id, basic_auth(alice_.email, alice_.password), bob_.email, slots);
  ASSERT_FALSE(token.empty());
  HttpReply by_token = http_call(stack(), {.method = "POST",
                                           .path = "/webhooks/",
                                           .body = json_body(json{{"url", receiver.url()}}),
                                           .headers = {{"X-Email-Token", token}}});
  EXPECT_EQ(by_token.status, 403) << by_token;
  EXPECT_EQ(http_call(stack(), {.method = "GET", .path = "/webhooks/?et=" + token}).status, 403);

  const auto refused = [&](const json& body, const std::string& field) {
    HttpReply r = call("POST", "/webhooks/", alice_, body);
    EXPECT_EQ(r.status, 400) << body << " " << r;
    EXPECT_TRUE(r.j().contains(field)) << body << " " << r;
  };
  refused(json::object(), "url");
  refused(json{{"url", 7}}, "url");
  refused(json{{"url", "ftp://127.0.0.1/x"}}, "url");
  refused(json{{"url", "not a url"}}, "url");
  refused(json{{"url", "http://user:pw@127.0.0.1:9/x"}}, "url");
  refused(json{{"url", "http://127.0.0.2:9/x"}}, "url");        // loopback outside the allow list
  refused(json{{"url", "https://10.1.2.3/x"}}, "url");          // private
  refused(json{{"url", "https://[::1]/x"}}, "url");             // IPv6 loopback
  refused(json{{"url", "https://169.254.169.254/"}}, "url");    // link-local (cloud metadata)
  refused(json{{"url", "https://[::ffff:10.0.0.1]/"}}, "url");  // mapped private
  refused(json{{"url", "https://224.0.0.1/"}}, "url");          // multicast
  refused(json{{"url", receiver.url()}, {"types", "event.created"}}, "types");
  refused(json{{"url", receiver.url()}, {"types", {"event.created", "event.exploded"}}}, "types");
  refused(json{{"url", receiver.url()}, {"types", {7}}}, "types");
  EXPECT_EQ(call("GET", "/webhooks/", alice_).j()["webhooks"].size(), 0U)
      << "nothing registered by any of that";
}

TEST_F(Webhooks, AWebhookIsItsOwnersAlone) {
  Receiver receiver(stack().dir(), "owners");
  const json mine = register_webhook(alice_, receiver.url());
  const json bobs = register_webhook(bob_, receiver.url(), json{"event.agreed"});
  const std::string path = "/webhooks/" + std::to_string(mine["id"].get<long long>()) + "/";

  const json listed = call("GET", "/webhooks/", alice_).j();
  ASSERT_EQ(listed["webhooks"].size(), 1U) << listed;
  EXPECT_EQ(listed["webhooks"][0]["id"], mine["id"]);
  EXPECT_EQ(listed["webhooks"][0]["url"], receiver.url());
  EXPECT_FALSE(listed["webhooks"][0].contains("secret")) << "the secret is shown once";
  EXPECT_EQ(call("GET", "/webhooks/", staff_).j()["webhooks"].size(), 0U) << "staff list their own";

  for (const User& other : {bob_, staff_}) {
    EXPECT_EQ(call("GET", path + "deliveries/", other).status, 404);
    EXPECT_EQ(call("DELETE", path, other).status, 404);
  }
  EXPECT_EQ(call("GET", path + "deliveries/", User{}).status, 401);
  EXPECT_EQ(call("DELETE", "/webhooks/999999999/", alice_).status, 404);
  EXPECT_EQ(call("GET", "/webhooks/1/nothing/", alice_).status, 404);
  EXPECT_EQ(call("PUT", path, alice_, json::object()).status, 405);

  ASSERT_EQ(call("DELETE", path, alice_).status, 204);
  EXPECT_EQ(call("DELETE", path, alice_).status, 404);
  EXPECT_EQ(call("GET", path + "deliveries/", alice_).status, 404);
  EXPECT_EQ(call("GET", "/webhooks/", alice_).j()["webhooks"].size(), 0U);
  // Nothing more reaches a deleted webhook.
  new_event(alice_, {bob_.email});
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(receiver.requests().size(), 0U);
  EXPECT_EQ(call("GET", "/webhooks/", bob_).j()["webhooks"][0]["id"], bobs["id"]);
}

TEST_F(Webhooks, ADeliveryToAnAddressNoLongerAllowedIsRefusedAndRecorded) {
  Receiver receiver(stack().dir(), "revoked");
  const json webhook = register_webhook(alice_, receiver.url());
  // The allow list no longer names the receiver's address: every delivery
  // checks again, and refuses rather than connects.
  stack().notify().terminate();
  stack().notify().env()["CALNDRO_WEBHOOK_ALLOW"] = "127.0.0.2/32";
  stack().revive();
  new_event(alice_, {bob_.email});
  json listed;
  EXPECT_TRUE(wait_until(
      [&] {
        // The event service's channel to notify may still be reconnecting (503).
        HttpReply r = call(
            "GET", "/webhooks/" + std::to_string(webhook["id"].get<long long>()) + "/deliveries/", alice_);
        listed = r.status == 200 ? r.j()["deliveries"] : json::array();
        return listed.size() >= 2;  // the first attempt and a retry
      },
      30s, "two refused attempts"));
  for (const json& attempt : listed) {
    EXPECT_TRUE(attempt["status"].is_null()) << attempt;
    EXPECT_THAT(attempt["error"].get<std::string>(), HasSubstr("loopback")) << attempt;
  }
  EXPECT_EQ(receiver.requests().size(), 0U) << "nothing was connected to";
  stack().notify().terminate();
  stack().notify().env()["CALNDRO_WEBHOOK_ALLOW"] = "127.0.0.1/32";
  stack().revive();
  // Allowed again: the message still waiting goes out at its next retry
  // (30 s after the second attempt).
  receiver.wait_for(1, 60s);
}

TEST_F(Webhooks, DirectGrpcCallersGetTheSameRules) {
  Receiver receiver(stack().dir(), "grpc");
  auto stub = calndro::events::v1::EventService::NewStub(stack().events_channel());
  const auto context = [](const std::string& key, const std::string& value) {
    auto c = std::make_unique<grpc::ClientContext>();
    c->set_deadline(std::chrono::system_clock::now() + 10s);
    if (!key.empty()) {
      c->AddMetadata(key, value);
    }
    return c;
  };
  calndro::events::v1::CreateWebhookRequest create;
  create.set_url(receiver.url());
  calndro::events::v1::Webhook made;
  EXPECT_EQ(stub->CreateWebhook(context("", "").get(), create, &made).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  const std::string id = new_event(alice_, {bob_.email});
  const json slots = {slot_json("2031-03-01T09:00:00Z", "00:30:00"),
                      slot_json("2031-03-02T09:00:00Z", "00:30:00")};
  const std::string token =
      notify_for_token(stack(), id, basic_auth(alice_.email, alice_.password), bob_.email, slots);
  EXPECT_EQ(stub->CreateWebhook(context("x-email-token", token).get(), create, &made).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  const std::string auth = basic_auth(alice_.email, alice_.password);
  calndro::events::v1::CreateWebhookRequest bad = create;
  bad.set_url("https://192.168.1.1/");
  EXPECT_EQ(stub->CreateWebhook(context("authorization", auth).get(), bad, &made).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_TRUE(stub->CreateWebhook(context("authorization", auth).get(), create, &made).ok());
  EXPECT_TRUE(made.secret().starts_with("whsec_"));
  EXPECT_EQ(made.types_size(), 7);
  calndro::events::v1::ListWebhooksResponse listed;
  ASSERT_TRUE(stub->ListWebhooks(context("authorization", auth).get(), {}, &listed).ok());
  ASSERT_EQ(listed.webhooks_size(), 1);
  EXPECT_TRUE(listed.webhooks(0).secret().empty());
  calndro::events::v1::ListWebhookDeliveriesRequest deliveries;
  deliveries.set_webhook_id(made.id());
  calndro::events::v1::ListWebhookDeliveriesResponse attempts;
  EXPECT_EQ(stub->ListWebhookDeliveries(context("authorization", basic_auth(bob_.email, bob_.password)).get(),
                                        deliveries, &attempts)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  calndro::events::v1::DeleteWebhookRequest remove;
  remove.set_id(made.id());
  google::protobuf::Empty empty;
  EXPECT_TRUE(stub->DeleteWebhook(context("authorization", auth).get(), remove, &empty).ok());
}

// Without CALNDRO_WEBHOOK_ALLOW, the loopback is as refused as any
// private address.
class WebhooksNotAllowed : public SuiteStackTest<WebhooksNotAllowed> {
 public:
  static StackOptions options() {
    StackOptions options;
    options.env = {{"CALNDRO_WEBHOOK_ALLOW", ""}};
    options.notify = StackOptions::Notify::kRequired;
    return options;
  }
};

TEST_F(WebhooksNotAllowed, LoopbackUrlsAreRefused) {
  const User carol = stack().create_user(unique_email("whcarol"), "carol-Pass-1");
  for (const char* url : {"http://127.0.0.1:8080/hook", "https://127.0.0.1/hook", "https://localhost/hook",
                          "https://[::1]/hook", "https://0.0.0.0/", "https://[::]/"}) {
    HttpReply r = http_call(stack(), {.method = "POST",
                                      .path = "/webhooks/",
                                      .authorization = basic_auth(carol.email, carol.password),
                                      .body = json_body(json{{"url", url}})});
    EXPECT_EQ(r.status, 400) << url << " " << r;
    EXPECT_TRUE(r.j().contains("url")) << r;
  }
}

}  // namespace
