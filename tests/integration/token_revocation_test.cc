// Revoking email tokens (SPEC §2, §6): `calndro-admin token revoke --event ID
// [--party EMAIL]`, and deactivating a user, make the links already mailed
// stop working at once, over REST and over gRPC; API keys are revoked as
// before. With the event service's email-token cache on, a revoked token
// works at most that many seconds longer.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>

#include "calndro/events/v1/events.grpc.pb.h"
#include "support/http_call.h"
#include "support/stack.h"
#include "support/wait.h"

using json = nlohmann::json;
using namespace calndro::testing;
namespace ev1 = calndro::events::v1;

namespace {

const json kSlots = json::array({json{{"begin", "2030-09-01T10:00:00Z"}, {"duration", "01:00"}}});

HttpReply call(Stack& stack, const std::string& method, const std::string& path,
               const std::string& authorization, const std::optional<json>& body = std::nullopt) {
  return http_call(stack, {method, path, authorization, json_body(body), {}});
}

// An event of `creator` with `parties`; its id.
std::string create_event(Stack& stack, const User& creator, const std::vector<std::string>& parties) {
  const HttpReply created = call(stack, "POST", "/", basic_auth(creator.email, creator.password),
                                 json{{"title", "revocable"}, {"parties", parties}, {"slots", kSlots}});
  EXPECT_EQ(created.status, 201) << created;
  return created.status == 201 ? std::to_string(created.j()["id"].get<long long>()) : "0";
}

// `creator` notifies `who` about event `id`; the token in the mail.
std::string mailed_token(Stack& stack, const User& creator, const std::string& id, const std::string& who) {
  return notify_for_token(stack, id, basic_auth(creator.email, creator.password), who, kSlots);
}

// GET /ID/?et=TOKEN: the HTTP status.
int rest_status(Stack& stack, const std::string& id, const std::string& token) {
  return call(stack, "GET", "/" + id + "/?et=" + token, "").status;
}

// GetEvent with metadata x-email-token, straight to the event service.
grpc::StatusCode grpc_status(Stack& stack, const std::string& id, const std::string& token) {
  auto stub = ev1::EventService::NewStub(stack.events_channel());
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  context.AddMetadata("x-email-token", token);
  ev1::GetEventRequest request;
  request.set_id(std::stoll(id));
  ev1::Event event;
  return stub->GetEvent(&context, request, &event).error_code();
}

// The token works over REST and gRPC, or is refused over both.
void expect_token(Stack& stack, const std::string& id, const std::string& token, bool works,
                  const std::string& what) {
  EXPECT_EQ(rest_status(stack, id, token), works ? 200 : 401) << what;
  EXPECT_EQ(grpc_status(stack, id, token), works ? grpc::StatusCode::OK : grpc::StatusCode::UNAUTHENTICATED)
      << what;
}

std::int64_t tokens_in_db(Stack& stack, const std::string& id, const std::string& party) {
  return std::stoll(stack.db().scalar("SELECT count(*) FROM notify.email_tokens WHERE event_id = " + id +
                                      " AND party_email = '" + party + "'"));
}

class TokenRevocation : public StackTest {
 protected:
  void prepare() override {
    stack().require_notify("email tokens need it");
    alice_ = stack().create_user(unique_email("rv-alice"), "alice-Pass-1");
    bob_ = stack().create_user(unique_email("rv-bob"), "bob-Pass-1");
    carol_ = unique_email("rv-carol");  // invited only: an inactive user
  }
  User alice_, bob_;
  std::string carol_;
};

TEST_F(TokenRevocation, RevokeByEventForOnePartyThenForAll) {
  const std::string first = create_event(stack(), alice_, {bob_.email, carol_});
  const std::string second = create_event(stack(), alice_, {bob_.email, carol_});
  const std::string bob_first = mailed_token(stack(), alice_, first, bob_.email);
  const std::string carol_first = mailed_token(stack(), alice_, first, carol_);
  const std::string bob_second = mailed_token(stack(), alice_, second, bob_.email);
  expect_token(stack(), first, bob_first, true, "bob's link before any revocation");
  expect_token(stack(), first, carol_first, true, "carol's link before any revocation");

  const CommandResult one = stack().admin({"token", "revoke", "--event", first, "--party", bob_.email});
  ASSERT_EQ(one.exit_code, 0) << one.output();
  EXPECT_NE(one.out.find("revoked 1 email token(s) of event " + first + " issued to " + bob_.email),
            std::string::npos)
      << one.out;
  expect_token(stack(), first, bob_first, false, "bob's revoked link");
  expect_token(stack(), first, carol_first, true, "carol's link stays");
  expect_token(stack(), second, bob_second, true, "bob's link to another event stays");
  EXPECT_EQ(tokens_in_db(stack(), first, bob_.email), 0);

  const CommandResult all = stack().admin({"token", "revoke", "--event", first});
  ASSERT_EQ(all.exit_code, 0) << all.output();
  EXPECT_NE(all.out.find("revoked 1 email token(s) of event " + first), std::string::npos) << all.out;
  expect_token(stack(), first, carol_first, false, "carol's link after revoking the event's");
  expect_token(stack(), second, bob_second, true, "the other event's links stay");
  // The credentials still work, and a new mail brings a new link.
  EXPECT_EQ(call(stack(), "GET", "/" + first + "/", basic_auth(bob_.email, bob_.password)).status, 200);
  expect_token(stack(), first, mailed_token(stack(), alice_, first, carol_), true,
               "a link mailed afterwards");
}

TEST_F(TokenRevocation, DeactivatingAPartyRevokesItsTokensAndKeys) {
  const std::string first = create_event(stack(), alice_, {bob_.email, carol_});
  const std::string second = create_event(stack(), alice_, {bob_.email});
  const std::string bob_first = mailed_token(stack(), alice_, first, bob_.email);
  const std::string bob_second = mailed_token(stack(), alice_, second, bob_.email);
  const std::string carol_first = mailed_token(stack(), alice_, first, carol_);
  const HttpReply key = call(stack(), "POST", "/api-token-auth/", "",
                             json{{"username", bob_.email}, {"password", bob_.password}});
  ASSERT_EQ(key.status, 200) << key;

  const CommandResult off = stack().admin({"user", "deactivate", bob_.email});
  ASSERT_EQ(off.exit_code, 0) << off.output();
  EXPECT_NE(off.out.find("API keys revoked: 1; email tokens revoked: 2"), std::string::npos) << off.out;
  expect_token(stack(), first, bob_first, false, "a deactivated party's link");
  expect_token(stack(), second, bob_second, false, "a deactivated party's link to another event");
  EXPECT_EQ(call(stack(), "GET", "/", "Token " + key.j()["token"].get<std::string>()).status, 401);
  expect_token(stack(), first, carol_first, true, "another party's link stays");
  // An invited party is inactive from the start: deactivating it still
  // revokes its links (as after a deactivation by hand in psql).
  const CommandResult invited = stack().admin({"user", "deactivate", carol_});
  ASSERT_EQ(invited.exit_code, 0) << invited.output();
  EXPECT_NE(invited.out.find("email tokens revoked: 1"), std::string::npos) << invited.out;
  expect_token(stack(), first, carol_first, false, "an inactive party's link after user deactivate");
}

TEST_F(TokenRevocation, AddInactiveDeactivatesOnlyAnActiveUser) {
  const std::string id = create_event(stack(), alice_, {bob_.email, carol_});
  const std::string carol_token = mailed_token(stack(), alice_, id, carol_);
  // Carol was never active: `user add --inactive` gives her a password and
  // leaves her inactive, and her links working.
  const CommandResult named = stack().admin({"user", "add", carol_, "--inactive"});
  ASSERT_EQ(named.exit_code, 0) << named.output();
  EXPECT_EQ(named.out.find("email tokens revoked"), std::string::npos) << named.out;
  expect_token(stack(), id, carol_token, true, "an invited party made a named inactive user");

  const std::string bob_token = mailed_token(stack(), alice_, id, bob_.email);
  const CommandResult off = stack().admin({"user", "add", bob_.email, "--inactive"});
  ASSERT_EQ(off.exit_code, 0) << off.output();
  EXPECT_NE(off.out.find("email tokens revoked: 1"), std::string::npos) << off.out;
  expect_token(stack(), id, bob_token, false, "an active user made inactive by user add");
}

TEST_F(TokenRevocation, BadRevocationsChangeNothingAndSayWhy) {
  const std::string id = create_event(stack(), alice_, {bob_.email});
  const std::string token = mailed_token(stack(), alice_, id, bob_.email);
  const CommandResult missing = stack().admin({"token", "revoke", "--event", "999999999"});
  EXPECT_EQ(missing.exit_code, 1) << missing.output();
  EXPECT_NE(missing.err.find("no event 999999999"), std::string::npos) << missing.err;
  const CommandResult stranger = stack().admin({"token", "revoke", "--event", id, "--party", carol_});
  EXPECT_EQ(stranger.exit_code, 1) << stranger.output();
  EXPECT_NE(stranger.err.find("is not a party of event " + id), std::string::npos) << stranger.err;
  for (const std::vector<std::string>& bad : {std::vector<std::string>{"token", "revoke", "--event"},
                                              {"token", "revoke", "--event", "x"},
                                              {"token", "revoke", "--event", "0"},
                                              {"token", "revoke", "--event", id, "--party"},
                                              {"token", "revoke", "--event", id, "--user", bob_.email},
                                              {"token", "revoke", "--event", id, id}}) {
    const CommandResult refused = stack().admin(bad);
    EXPECT_EQ(refused.exit_code, 2) << bad.back() << ": " << refused.output();
    EXPECT_NE(refused.err.find("--event ID [--party EMAIL]"), std::string::npos) << refused.err;
  }
  const CommandResult not_an_email = stack().admin({"token", "revoke", "--event", id, "--party", "nobody"});
  EXPECT_NE(not_an_email.exit_code, 0) << not_an_email.output();
  expect_token(stack(), id, token, true, "after refused revocations");
  const CommandResult usage = stack().admin({});
  EXPECT_NE(usage.err.find("token revoke --event ID [--party EMAIL]"), std::string::npos) << usage.err;
  EXPECT_NE(usage.err.find("token revoke --user EMAIL"), std::string::npos) << usage.err;
}

// CALNDRO_EMAIL_TOKEN_CACHE_SECONDS: a resolved token is remembered that long,
// so a revoked one works at most that much longer (docs/OPERATIONS.md).
TEST(TokenRevocationWithCache, ARevokedTokenOutlivesItsRevocationByTheCacheTimeAtMost) {
  StackOptions options = prompt_mail_options({{"CALNDRO_EMAIL_TOKEN_CACHE_SECONDS", "2"}});
  options.replicas = 1;
  Stack stack(options);
  const User alice = stack.create_user(unique_email("rvc-alice"), "alice-Pass-1");
  const std::string bob = unique_email("rvc-bob");
  const std::string id = create_event(stack, alice, {bob});
  const std::string token = mailed_token(stack, alice, id, bob);
  ASSERT_EQ(rest_status(stack, id, token), 200);  // resolved, and remembered
  ASSERT_EQ(stack.admin({"token", "revoke", "--event", id}).exit_code, 0);
  const auto revoked = std::chrono::steady_clock::now();
  // About time: how long the revoked token keeps working is what is measured.
  EXPECT_TRUE(wait_until([&] { return rest_status(stack, id, token) != 200; }, 10s,
                         "the revoked token to stop working"));
  const auto outlived = std::chrono::steady_clock::now() - revoked;
  EXPECT_EQ(rest_status(stack, id, token), 401);
  EXPECT_LE(outlived, 3s) << "the cache kept a revoked token past its 2 seconds";
}

}  // namespace
