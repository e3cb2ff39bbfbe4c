// Failed-login throttling, password checks that hold no database connection,
// the API-token lifecycle and the hourly mail limit per event and caller,
// which every mail a request causes counts against (SPEC §2, §7).
// Each fixture starts its own stack with the limits it needs, with one
// replica of each service: the throttle counts per process, so a second
// replica would see other counts (docs/ARCHITECTURE.md).
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "calndro/events/v1/events.grpc.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "support/http_call.h"
#include "support/stack.h"
#include "support/wait.h"

using namespace calndro::testing;
using nlohmann::json;
namespace ev1 = calndro::events::v1;
using Clock = std::chrono::steady_clock;

namespace {

using Resp = HttpReply;

Resp call(const Stack& stack, const std::string& method, const std::string& path,
          const std::string& authorization, const std::optional<json>& body = std::nullopt) {
  return http_call(stack, {method, path, authorization, json_body(body), {}});
}

Resp mint(const Stack& stack, const std::string& login, const std::string& password) {
  return call(stack, "POST", "/api-token-auth/", "", json{{"username", login}, {"password", password}});
}

std::string token_of(const Resp& r) {
  const json j = r.j();
  return j.is_object() && j.contains("token") && j["token"].is_string() ? j["token"].get<std::string>() : "";
}

int retry_after(const Resp& r) {
  const std::string value = r.header("Retry-After");
  return value.empty() ? -1 : std::stoi(value);
}

// The google.rpc.RetryInfo delay of a status, -1 when it has none.
long long retry_seconds(const grpc::Status& status) {
  google::rpc::Status envelope;
  if (status.error_details().empty() || !envelope.ParseFromString(status.error_details())) {
    return -1;
  }
  for (const auto& any : envelope.details()) {
    google::rpc::RetryInfo info;
    if (any.UnpackTo(&info)) {
      return info.retry_delay().seconds();
    }
  }
  return -1;
}

json slots() {
  return json::array({json{{"begin", "2030-03-01T10:00:00Z"}, {"duration", "01:00"}}});
}

std::unique_ptr<Stack> start_stack(Env env) {
  StackOptions options;
  options.env = std::move(env);
  options.replicas = 1;
  return std::make_unique<Stack>(options);
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() / 2];
}

// --- limits lowered, so a few requests reach them -------------------------

class ThrottleLimits : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    stack_ = start_stack({{"CALNDRO_LOGIN_FAILURES_PER_ACCOUNT", "5"},
                          {"CALNDRO_LOGIN_FAILURES_PER_ADDRESS", "1000"},
                          {"CALNDRO_API_TOKEN_DAYS", "7"},
                          {"CALNDRO_NOTIFY_MAILS_PER_HOUR", "5"},
                          {"CALNDRO_RETENTION_DAYS", "2"},
                          {"CALNDRO_PURGE_INTERVAL_SECONDS", "1"}});
  }
  static void TearDownTestSuite() { stack_.reset(); }
  Stack& stack() { return *stack_; }
  User user(const std::string& prefix, const std::string& password = "right-Pass-1") {
    return stack().create_user(unique_email(prefix), password);
  }
  static std::unique_ptr<Stack> stack_;
};
std::unique_ptr<Stack> ThrottleLimits::stack_;

TEST_F(ThrottleLimits, BasicLoginsPastTheAccountLimitAre429WhateverThePassword) {
  const User u = user("thr");
  const Resp key = mint(stack(), u.email, u.password);
  ASSERT_EQ(key.status, 200) << key;
  for (int i = 0; i < 5; ++i) {
    const Resp r = call(stack(), "GET", "/", basic_auth(u.email, "wrong-" + std::to_string(i)));
    EXPECT_EQ(r.status, 401) << i << ": " << r;
  }
  for (const std::string& password : {std::string("wrong-again"), u.password}) {
    const Resp r = call(stack(), "GET", "/", basic_auth(u.email, password));
    EXPECT_EQ(r.status, 429) << r;
    EXPECT_GE(retry_after(r), 1) << r;
    EXPECT_LE(retry_after(r), 300) << r;
    EXPECT_TRUE(r.j().contains("detail")) << r;
  }
  // The account as typed in other case is the same account.
  std::string upper = u.email;
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  EXPECT_EQ(call(stack(), "GET", "/", basic_auth(upper, u.password)).status, 429);
  // Neither API keys nor other accounts are affected.
  EXPECT_EQ(call(stack(), "GET", "/", "Token " + token_of(key)).status, 200);
  const User other = user("thr-other");
  EXPECT_EQ(call(stack(), "GET", "/", basic_auth(other.email, other.password)).status, 200);
}

TEST_F(ThrottleLimits, UnknownAccountsAreThrottledAlikeSoTheAnswerRevealsNothing) {
  const std::string ghost = unique_email("ghost");
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(call(stack(), "GET", "/", basic_auth(ghost, "x")).status, 401);
  }
  const Resp r = call(stack(), "GET", "/", basic_auth(ghost, "x"));
  EXPECT_EQ(r.status, 429) << r;
  EXPECT_GE(retry_after(r), 1) << r;
}

TEST_F(ThrottleLimits, ApiTokenAuthSharesTheCountAndIsThrottled) {
  const User u = user("thr-tok");
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(mint(stack(), u.email, "wrong").status, 401);
  }
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(call(stack(), "GET", "/", basic_auth(u.email, "wrong")).status, 401);
  }
  const Resp r = mint(stack(), u.email, u.password);
  EXPECT_EQ(r.status, 429) << r;
  EXPECT_GE(retry_after(r), 1) << r;
  EXPECT_EQ(token_of(r), "");
}

TEST_F(ThrottleLimits, ASuccessResetsTheAccountCount) {
  const User u = user("thr-reset");
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(call(stack(), "GET", "/", basic_auth(u.email, "wrong")).status, 401);
  }
  EXPECT_EQ(call(stack(), "GET", "/", basic_auth(u.email, u.password)).status, 200);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(call(stack(), "GET", "/", basic_auth(u.email, "wrong")).status, 401) << i;
  }
  // A cached (recently verified) password resets it as well.
  EXPECT_EQ(call(stack(), "GET", "/", basic_auth(u.email, u.password)).status, 200);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(call(stack(), "GET", "/", basic_auth(u.email, "wrong")).status, 401) << i;
  }
  EXPECT_EQ(call(stack(), "GET", "/", basic_auth(u.email, u.password)).status, 429);
}

TEST_F(ThrottleLimits, ApiTokenAuthTakesAsLongForUnknownAndInactiveUsers) {
  // Several known accounts, so no sample reaches the per-account limit.
  std::vector<User> known;
  for (int i = 0; i < 3; ++i) {
    known.push_back(user("timing"));
  }
  const User inactive = stack().create_user(unique_email("timing-inactive"), "inactive-Pass-1", false, true);
  std::vector<double> wrong, unknown, inactive_times;
  const auto timed = [&](const std::string& login, const std::string& password) {
    const auto started = Clock::now();
    const Resp r = mint(stack(), login, password);
    EXPECT_EQ(r.status, 401) << login << ": " << r;
    return std::chrono::duration<double, std::milli>(Clock::now() - started).count();
  };
  for (int round = 0; round < 3; ++round) {
    for (const User& u : known) {
      wrong.push_back(timed(u.email, "wrong-" + std::to_string(round)));
      unknown.push_back(timed(unique_email("nobody"), "wrong"));
    }
    inactive_times.push_back(timed(inactive.email, inactive.password));
  }
  // argon2id for all of them: an unanswered decoy would be ~100x faster.
  EXPECT_GE(median(unknown), 0.3 * median(wrong))
      << "unknown " << median(unknown) << " ms, wrong password " << median(wrong) << " ms";
  EXPECT_GE(median(inactive_times), 0.3 * median(wrong))
      << "inactive " << median(inactive_times) << " ms, wrong password " << median(wrong) << " ms";
}

TEST_F(ThrottleLimits, ApiTokensExpireAndDeleteRevokesThem) {
  const User u = user("tok-life");
  const Resp minted = mint(stack(), u.email, u.password);
  ASSERT_EQ(minted.status, 200) << minted;
  const std::string key = token_of(minted);
  ASSERT_EQ(key.size(), 40u);
  // CALNDRO_API_TOKEN_DAYS=7 here.
  const std::string days = stack().db().scalar(
      "SELECT round(extract(epoch FROM expires_at - now()) / 86400) FROM events.api_tokens "
      "ORDER BY id DESC LIMIT 1");
  EXPECT_EQ(days, "7");
  ASSERT_TRUE(minted.j().contains("expires")) << minted;
  EXPECT_EQ(call(stack(), "GET", "/", "Token " + key).status, 200);

  // DELETE needs the key itself.
  const Resp none = call(stack(), "DELETE", "/api-token-auth/", "");
  EXPECT_EQ(none.status, 401) << none;
  EXPECT_FALSE(none.header("WWW-Authenticate").empty());
  EXPECT_EQ(call(stack(), "DELETE", "/api-token-auth/", basic_auth(u.email, u.password)).status, 401);
  EXPECT_EQ(call(stack(), "DELETE", "/api-token-auth/", "Token " + std::string(40, 'a')).status, 401);
  EXPECT_EQ(call(stack(), "GET", "/", "Token " + key).status, 200) << "a failed DELETE revokes nothing";

  const Resp revoked = call(stack(), "DELETE", "/api-token-auth/", "Token " + key);
  EXPECT_EQ(revoked.status, 204) << revoked;
  const Resp after = call(stack(), "GET", "/", "Token " + key);
  EXPECT_EQ(after.status, 401) << after;
  EXPECT_EQ(after.j().value("detail", ""), "Invalid token.");
  EXPECT_EQ(call(stack(), "DELETE", "/api-token-auth/", "Token " + key).status, 401);

  // An expired key: the same answer as an unknown one.
  const std::string second = token_of(mint(stack(), u.email, u.password));
  ASSERT_FALSE(second.empty());
  EXPECT_EQ(call(stack(), "GET", "/", "Token " + second).status, 200);
  stack().db().exec(
      "UPDATE events.api_tokens SET expires_at = now() - interval '1 second' "
      "WHERE id = (SELECT max(id) FROM events.api_tokens)");
  const Resp expired = call(stack(), "GET", "/", "Token " + second);
  EXPECT_EQ(expired.status, 401) << expired;
  EXPECT_EQ(expired.j().value("detail", ""), "Invalid token.");
  EXPECT_EQ(call(stack(), "DELETE", "/api-token-auth/", "Token " + second).status, 401);
}

TEST_F(ThrottleLimits, RevokeApiTokenOverGrpc) {
  const User u = user("tok-grpc");
  auto stub = ev1::EventService::NewStub(stack().events_channel());
  ev1::CreateApiTokenRequest request;
  request.set_username(u.email);
  request.set_password(u.password);
  ev1::CreateApiTokenResponse minted;
  grpc::ClientContext mint_context;
  ASSERT_TRUE(stub->CreateApiToken(&mint_context, request, &minted).ok());
  EXPECT_GT(minted.expires().seconds(), std::time(nullptr) + 6 * 86400);
  const auto revoke = [&](const std::string& authorization) {
    grpc::ClientContext context;
    if (!authorization.empty()) {
      context.AddMetadata("authorization", authorization);
    }
    google::protobuf::Empty empty;
    return stub->RevokeApiToken(&context, ev1::RevokeApiTokenRequest(), &empty).error_code();
  };
  EXPECT_EQ(revoke(""), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(revoke("Token " + minted.token()), grpc::StatusCode::OK);
  EXPECT_EQ(revoke("Token " + minted.token()), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(ThrottleLimits, NewPasswordOrDeactivationRevokesKeysAndCachedPasswords) {
  const User u = user("tok-pw", "old-Pass-1");
  const std::string key = token_of(mint(stack(), u.email, u.password));
  ASSERT_FALSE(key.empty());
  // Verified once: the process caches the password for a while.
  ASSERT_EQ(call(stack(), "GET", "/", basic_auth(u.email, "old-Pass-1")).status, 200);
  const CommandResult set =
      stack().admin({"user", "set-password", u.email, "--password-stdin"}, "new-Pass-2\n");
  ASSERT_EQ(set.exit_code, 0) << set.output();
  EXPECT_NE(set.out.find("API keys revoked: 1"), std::string::npos) << set.out;
  EXPECT_EQ(call(stack(), "GET", "/", "Token " + key).status, 401);
  EXPECT_EQ(call(stack(), "GET", "/", basic_auth(u.email, "old-Pass-1")).status, 401);
  EXPECT_EQ(call(stack(), "GET", "/", basic_auth(u.email, "new-Pass-2")).status, 200);

  const std::string second = token_of(mint(stack(), u.email, "new-Pass-2"));
  ASSERT_FALSE(second.empty());
  const CommandResult off = stack().admin({"user", "deactivate", u.email});
  ASSERT_EQ(off.exit_code, 0) << off.output();
  EXPECT_NE(off.out.find("API keys revoked: 1"), std::string::npos) << off.out;
  EXPECT_EQ(call(stack(), "GET", "/", "Token " + second).status, 401);
  EXPECT_EQ(call(stack(), "GET", "/", basic_auth(u.email, "new-Pass-2")).status, 401)
      << "a cached password must not keep a deactivated user in";
  EXPECT_EQ(mint(stack(), u.email, "new-Pass-2").status, 401);
  EXPECT_EQ(
      stack().db().scalar("SELECT count(*) FROM events.api_tokens t JOIN events.users u ON u.id = t.user_id "
                          "WHERE u.email = '" +
                          u.email + "'"),
      "0");
}

TEST_F(ThrottleLimits, AdminListsAndRevokesKeys) {
  const User u = user("tok-admin");
  const std::string first = token_of(mint(stack(), u.email, u.password));
  const std::string second = token_of(mint(stack(), u.email, u.password));
  ASSERT_FALSE(first.empty());
  ASSERT_FALSE(second.empty());
  const CommandResult list = stack().admin({"token", "list", u.email});
  ASSERT_EQ(list.exit_code, 0) << list.output();
  std::vector<std::string> ids;
  std::istringstream lines(list.out);
  std::string line;
  std::getline(lines, line);  // header
  while (std::getline(lines, line)) {
    EXPECT_NE(line.find(u.email), std::string::npos) << line;
    EXPECT_NE(line.find("valid"), std::string::npos) << line;
    EXPECT_EQ(line.find(first), std::string::npos) << "a listing never shows a key";
    ids.push_back(line.substr(0, line.find('\t')));
  }
  ASSERT_EQ(ids.size(), 2u) << list.out;

  const CommandResult one = stack().admin({"token", "revoke", ids[0]});
  EXPECT_EQ(one.exit_code, 0) << one.output();
  EXPECT_EQ(call(stack(), "GET", "/", "Token " + first).status, 401);
  EXPECT_EQ(call(stack(), "GET", "/", "Token " + second).status, 200);
  EXPECT_EQ(stack().admin({"token", "revoke", ids[0]}).exit_code, 1) << "already gone";

  const CommandResult all = stack().admin({"token", "revoke", "--user", u.email});
  EXPECT_EQ(all.exit_code, 0) << all.output();
  EXPECT_EQ(call(stack(), "GET", "/", "Token " + second).status, 401);
  const CommandResult empty = stack().admin({"token", "list", u.email});
  EXPECT_EQ(std::count(empty.out.begin(), empty.out.end(), '\n'), 1) << empty.out;

  EXPECT_EQ(stack().admin({"token", "revoke", "x1"}).exit_code, 2);
  EXPECT_EQ(stack().admin({"token", "frobnicate"}).exit_code, 2);
  const CommandResult usage = stack().admin({});
  EXPECT_NE(usage.err.find("token revoke"), std::string::npos) << usage.err;
  EXPECT_NE(usage.err.find("user deactivate"), std::string::npos) << usage.err;
}

TEST_F(ThrottleLimits, ExpiredKeysArePurgedAfterTheRetentionPeriod) {
  const User u = user("tok-purge");
  ASSERT_FALSE(token_of(mint(stack(), u.email, u.password)).empty());
  ASSERT_FALSE(token_of(mint(stack(), u.email, u.password)).empty());
  const std::string of_user = "user_id = (SELECT id FROM events.users WHERE email = '" + u.email + "')";
  const std::string ids = "SELECT id FROM events.api_tokens WHERE " + of_user + " ORDER BY id";
  const auto rows = stack().db().query(ids);
  ASSERT_EQ(rows.size(), 2u);
  // CALNDRO_RETENTION_DAYS=2: one key expired three days ago, one a day ago.
  stack().db().exec("UPDATE events.api_tokens SET expires_at = now() - interval '3 days' WHERE id = " +
                    rows[0][0]);
  stack().db().exec("UPDATE events.api_tokens SET expires_at = now() - interval '1 day' WHERE id = " +
                    rows[1][0]);
  ASSERT_TRUE(
      wait_until([&] { return stack().db().query(ids).size() == 1; }, 10s,
                 "the purge job (every second here) to remove the key expired past the retention period"));
  EXPECT_EQ(stack().db().query(ids)[0][0], rows[1][0]);
}

TEST_F(ThrottleLimits, NotifyPastTheHourlyLimitPerSenderIs429AndChangesNothing) {
  const User alice = user("notify-a");
  const User bob = user("notify-b");
  const std::string carol = unique_email("notify-c");
  const std::string alice_auth = basic_auth(alice.email, alice.password);
  const Resp created =
      call(stack(), "POST", "/", alice_auth, json{{"parties", {bob.email, carol}}, {"slots", slots()}});
  ASSERT_EQ(created.status, 201) << created;
  const std::string path = "/" + std::to_string(created.j()["id"].get<long long>()) + "/";
  const auto notify = [&](const std::string& auth, const json& parties) {
    return call(stack(), "POST", path + "notify/", auth, json{{"parties", parties}, {"slots", slots()}});
  };
  const auto notify_entries = [&] {
    return std::stoi(
        stack().db().scalar("SELECT count(*) FROM events.log_entries WHERE occurrence = 'NOTIFY' "
                            "AND event_id = " +
                            path.substr(1, path.size() - 2)));
  };
  // CALNDRO_NOTIFY_MAILS_PER_HOUR=5 here.
  EXPECT_EQ(notify(alice_auth, {bob.email, carol}).status, 202);
  EXPECT_EQ(notify(alice_auth, {bob.email, carol}).status, 202);
  EXPECT_EQ(notify_entries(), 4);
  const Resp over = notify(alice_auth, {bob.email, carol});
  EXPECT_EQ(over.status, 429) << over;
  EXPECT_GT(retry_after(over), 3000) << over;
  EXPECT_LE(retry_after(over), 3600) << over;
  EXPECT_TRUE(over.j().contains("detail")) << over;
  EXPECT_EQ(notify_entries(), 4) << "a refused notify logs nothing";
  // One more mail fits; another sender has a limit of their own.
  EXPECT_EQ(notify(alice_auth, {carol}).status, 202);
  EXPECT_EQ(notify(alice_auth, {carol}).status, 429);
  EXPECT_EQ(notify(basic_auth(bob.email, bob.password), {carol}).status, 202);
  EXPECT_EQ(notify_entries(), 6);
}

// Every mail a request causes counts (SPEC §7): an agree, a reopen and a new
// title of an agreed event mail every party. With two parties and
// CALNDRO_NOTIFY_MAILS_PER_HOUR=5, the third such change within the hour is
// 429 and changes, queues and logs nothing.
class MailAmplification : public ThrottleLimits {
 protected:
  void SetUp() override {
    alice_ = user("amp-a");
    bob_ = user("amp-b");
    const Resp created = call(stack(), "POST", "/", alice(),
                              json{{"title", "tea"}, {"parties", {bob_.email}}, {"slots", two_slots()}});
    ASSERT_EQ(created.status, 201) << created;
    id_ = std::to_string(created.j()["id"].get<long long>());
  }
  static json two_slots() {
    return json::array({json{{"begin", "2030-03-01T10:00:00Z"}, {"duration", "01:00"}},
                        json{{"begin", "2030-03-02T10:00:00Z"}, {"duration", "01:00"}}});
  }
  std::string alice() const { return basic_auth(alice_.email, alice_.password); }
  std::string bob() const { return basic_auth(bob_.email, bob_.password); }
  Resp agree(const std::string& auth, int slot) {
    return call(stack(), "POST", "/" + id_ + "/agree/", auth, json{{"slot", two_slots()[slot]}});
  }
  Resp reopen(const std::string& auth) {
    return call(stack(), "POST", "/" + id_ + "/reopen/", auth, json::object());
  }
  Resp rename(const std::string& auth, const std::string& title) {
    return call(stack(), "PATCH", "/" + id_ + "/", auth, json{{"title", title}});
  }
  std::string count(const std::string& from_where) {
    return stack().db().scalar("SELECT count(*) FROM " + from_where + " AND event_id = " + id_);
  }
  // The outbox rows (one per request that mailed) and log entries of the event.
  std::pair<std::string, std::string> written() {
    return {count("events.pending_notifications WHERE true"),
            count("events.log_entries WHERE occurrence <> 'VIEW'")};
  }
  // A refusal of the limit: 429 with a Retry-After within the hour.
  static void expect_over_limit(const Resp& r) {
    EXPECT_EQ(r.status, 429) << r;
    EXPECT_GE(retry_after(r), 3000) << r;
    EXPECT_LE(retry_after(r), 3600) << r;
    EXPECT_TRUE(r.j().contains("detail")) << r;
  }
  User alice_, bob_;
  std::string id_;
};

TEST_F(MailAmplification, RenamingAnAgreedEventPastTheHourlyLimitIs429AndQueuesNothing) {
  ASSERT_EQ(agree(alice(), 0).status, 200);
  ASSERT_EQ(rename(alice(), "tea at five").status, 202);  // 4 mails caused
  const auto before = written();
  expect_over_limit(rename(alice(), "tea at six"));
  EXPECT_EQ(written(), before) << "nothing queued or logged";
  const Resp now = call(stack(), "GET", "/" + id_ + "/", alice());
  EXPECT_EQ(now.j()["title"], "tea at five");
  EXPECT_EQ(now.header("ETag"), "\"3\"");
  // Another party may not rename an agreed event at all (SPEC §2).
  const Resp by_party = rename(bob(), "bob's party");
  EXPECT_EQ(by_party.status, 403) << by_party;
  EXPECT_EQ(written(), before);
}

TEST_F(MailAmplification, AgreeAndReopenFlipsPastTheHourlyLimitAre429AndQueueNothing) {
  ASSERT_EQ(agree(alice(), 0).status, 200);
  ASSERT_EQ(reopen(alice()).status, 200);  // 4 mails caused
  const auto before = written();
  expect_over_limit(agree(alice(), 1));
  EXPECT_EQ(written(), before);
  EXPECT_EQ(call(stack(), "GET", "/" + id_ + "/", alice()).j()["state"], "open");
  ASSERT_EQ(agree(alice(), 0).status, 429) << "either slot";
  // A notify draws on the same hour: two mails do not fit, one does.
  const auto notify = [&](const json& parties) {
    return call(stack(), "POST", "/" + id_ + "/notify/", alice(),
                json{{"parties", parties}, {"slots", two_slots()}});
  };
  expect_over_limit(notify({alice_.email, bob_.email}));
  EXPECT_EQ(written(), before);
  EXPECT_EQ(notify({bob_.email}).status, 202);
}

// Staff's mails count against staff; a deletion is never refused by the
// limit (an event must always be possible to take down), but its
// cancellation is queued and counted all the same.
TEST_F(MailAmplification, ADeletionPastTheLimitIsStillDoneAndItsCancellationCounts) {
  const User staff = stack().create_user(unique_email("amp-staff"), "staff-Pass-1", /*staff=*/true);
  const std::string staff_auth = basic_auth(staff.email, staff.password);
  ASSERT_EQ(agree(staff_auth, 0).status, 200);
  ASSERT_EQ(agree(staff_auth, 1).status, 200);
  expect_over_limit(agree(staff_auth, 0));
  EXPECT_EQ(call(stack(), "DELETE", "/" + id_ + "/", staff_auth).status, 204);
  EXPECT_EQ(count("events.pending_notifications WHERE caused_by = '" + staff.email + "'"), "3");
  EXPECT_EQ(count("events.pending_notifications WHERE request->'calendar'->>'method' = 'METHOD_CANCEL'"),
            "1");
  EXPECT_EQ(count("events.pending_notifications WHERE caused_by = '" + alice_.email + "'"), "0");
}

// The same over direct gRPC: RESOURCE_EXHAUSTED with RetryInfo, and
// PERMISSION_DENIED for a party renaming an agreed event.
TEST_F(MailAmplification, OverGrpcRenamesOfAnAgreedEventAreLimitedAndForTheCreatorOnly) {
  ASSERT_EQ(agree(alice(), 0).status, 200);
  auto stub = ev1::EventService::NewStub(stack().events_channel());
  const auto rename_rpc = [&](const std::string& auth, const std::string& title) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    context.AddMetadata("authorization", auth);
    ev1::UpdateEventRequest request;
    request.set_id(std::stoll(id_));
    request.set_title(title);
    ev1::Event out;
    return stub->UpdateEvent(&context, request, &out);
  };
  EXPECT_EQ(rename_rpc(bob(), "bob's party").error_code(), grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(rename_rpc(alice(), "tea at five").ok());
  const auto before = written();
  const grpc::Status over = rename_rpc(alice(), "tea at six");
  EXPECT_EQ(over.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << over.error_message();
  EXPECT_GE(retry_seconds(over), 3000);
  EXPECT_EQ(written(), before);
}

// --- the per-address limit, over gRPC with the gateway's metadata --------

// ListEvents as `authorization`, naming `address` (when not empty) in
// x-calndro-client-addr, with `internal_credential` (when not empty) in
// x-calndro-internal, as the gateway calls.
grpc::StatusCode list_as(ev1::EventService::Stub& stub, const std::string& authorization,
                         const std::string& address, const std::string& internal_credential,
                         grpc::Status* out = nullptr) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  context.AddMetadata("authorization", authorization);
  if (!address.empty()) {
    context.AddMetadata("x-calndro-client-addr", address);
  }
  if (!internal_credential.empty()) {
    context.AddMetadata("x-calndro-internal", internal_credential);
  }
  ev1::ListEventsResponse response;
  const grpc::Status status = stub.ListEvents(&context, ev1::ListEventsRequest(), &response);
  if (out != nullptr) {
    *out = status;
  }
  return status.error_code();
}

class AddressLimit : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    stack_ = start_stack({{"CALNDRO_LOGIN_FAILURES_PER_ACCOUNT", "1000"},
                          {"CALNDRO_LOGIN_FAILURES_PER_ADDRESS", "6"},
                          {"CALNDRO_PASSWORD_CHECK_WAIT_MS", "0"}});
  }
  static void TearDownTestSuite() { stack_.reset(); }
  Stack& stack() { return *stack_; }
  // As the gateway: the HTTP client's address with the internal credential.
  grpc::StatusCode list_as(ev1::EventService::Stub& stub, const std::string& authorization,
                           const std::string& address, grpc::Status* out = nullptr) {
    return ::list_as(stub, authorization, address, stack().internal_token(), out);
  }
  static std::unique_ptr<Stack> stack_;
};
std::unique_ptr<Stack> AddressLimit::stack_;

TEST_F(AddressLimit, FailuresFromOneAddressBlockEveryAccountFromIt) {
  const User u = stack().create_user(unique_email("addr"), "right-Pass-1");
  auto stub = ev1::EventService::NewStub(stack().events_channel());
  const std::string key = token_of(mint(stack(), u.email, u.password));
  ASSERT_FALSE(key.empty());
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(list_as(*stub, basic_auth(unique_email("addr-ghost"), "x"), "198.51.100.7"),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  grpc::Status status;
  EXPECT_EQ(list_as(*stub, basic_auth(unique_email("addr-ghost"), "x"), "198.51.100.7", &status),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_GE(retry_seconds(status), 1) << "RESOURCE_EXHAUSTED carries google.rpc.RetryInfo";
  EXPECT_EQ(list_as(*stub, basic_auth(u.email, u.password), "198.51.100.7"),
            grpc::StatusCode::RESOURCE_EXHAUSTED)
      << "even the right password, from that address";
  EXPECT_EQ(list_as(*stub, "Token " + key, "198.51.100.7"), grpc::StatusCode::OK)
      << "API keys are never throttled";
  EXPECT_EQ(list_as(*stub, basic_auth(u.email, u.password), "198.51.100.8"), grpc::StatusCode::OK);
  // IPv6 clients are counted by their /64.
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(
        list_as(*stub, basic_auth(unique_email("addr6"), "x"), "2001:db8:7:7::" + std::to_string(i + 1)),
        grpc::StatusCode::UNAUTHENTICATED);
  }
  EXPECT_EQ(list_as(*stub, basic_auth(u.email, u.password), "2001:db8:7:7:abcd::1"),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
}

TEST_F(AddressLimit, AFullHashingSlotFailsFastWith429) {
  // CALNDRO_PASSWORD_CHECK_WAIT_MS=0: a check that finds the slot taken is
  // refused at once instead of queueing.
  constexpr int kClients = 16;
  std::vector<grpc::StatusCode> codes(kClients);
  std::vector<long long> retries(kClients);
  std::vector<std::thread> threads;
  std::atomic<int> ready{0};
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      auto stub = ev1::EventService::NewStub(stack().events_channel());
      ready.fetch_add(1);
      while (ready.load() < kClients) {
        std::this_thread::yield();
      }
      grpc::Status status;
      codes[i] = list_as(*stub, basic_auth(unique_email("slot"), "x"), "203.0.113." + std::to_string(i + 1),
                         &status);
      retries[i] = retry_seconds(status);
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  int busy = 0;
  for (int i = 0; i < kClients; ++i) {
    EXPECT_TRUE(codes[i] == grpc::StatusCode::UNAUTHENTICATED ||
                codes[i] == grpc::StatusCode::RESOURCE_EXHAUSTED)
        << i << ": " << static_cast<int>(codes[i]);
    if (codes[i] == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      ++busy;
      EXPECT_EQ(retries[i], 1);
    }
  }
  EXPECT_GE(busy, 1) << "16 simultaneous password checks, one slot, no wait";
}

// --- a forged client address: the peer's limit (SPEC §2) ------------------

// Its own stack: the spraying below blocks 127.0.0.1, the address of every
// other caller here, for the rest of the window.
TEST(ForgedClientAddress, SprayingWithoutTheInternalCredentialMeetsThePeerAddressLimit) {
  // The gateway believes X-Forwarded-For from 127.0.0.0/8 here, so REST
  // callers can name addresses of their own too.
  auto stack = start_stack({{"CALNDRO_LOGIN_FAILURES_PER_ACCOUNT", "1000"},
                            {"CALNDRO_LOGIN_FAILURES_PER_ADDRESS", "6"},
                            {"CALNDRO_TRUSTED_PROXIES", "127.0.0.0/8"}});
  const User u = stack->create_user(unique_email("spray"), "right-Pass-1");
  auto stub = ev1::EventService::NewStub(stack->events_channel());
  const auto rest_as = [&](const std::string& forwarded_for) {
    return http_call(
        *stack,
        {"GET", "/", basic_auth(u.email, u.password), std::nullopt, {{"X-Forwarded-For", forwarded_for}}});
  };
  EXPECT_EQ(rest_as("198.51.100.40").status, 200) << "the REST path names its client";
  // A password sprayer straight at port 50051, a new forged address each time.
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(
        list_as(*stub, basic_auth(unique_email("spray-ghost"), "x"), "192.0.2." + std::to_string(i + 1), ""),
        grpc::StatusCode::UNAUTHENTICATED)
        << i;
  }
  grpc::Status status;
  EXPECT_EQ(list_as(*stub, basic_auth(u.email, u.password), "192.0.2.99", "", &status),
            grpc::StatusCode::RESOURCE_EXHAUSTED)
      << "six failures from one peer, whatever addresses it named: " << status.error_message();
  EXPECT_EQ(list_as(*stub, basic_auth(u.email, u.password), "192.0.2.98", "not-the-credential"),
            grpc::StatusCode::RESOURCE_EXHAUSTED)
      << "a wrong credential counts as none";
  // With the internal credential the named address is the one counted.
  EXPECT_EQ(list_as(*stub, basic_auth(u.email, u.password), "198.51.100.41", stack->internal_token()),
            grpc::StatusCode::OK);
  EXPECT_EQ(list_as(*stub, basic_auth(u.email, u.password), "127.0.0.1", stack->internal_token()),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  // Through the gateway, which sends the credential: each client its own count.
  EXPECT_EQ(rest_as("198.51.100.42").status, 200);
  const Resp blocked = rest_as("127.0.0.1");
  EXPECT_EQ(blocked.status, 429) << "a client behind the sprayer's own address shares its limit: " << blocked;
}

// --- a wrong-password flood does not slow down callers with API keys ------

struct FloodFigures {
  std::size_t victim_requests = 0;
  double victim_median_ms = 0;
  double victim_max_ms = 0;
  std::map<int, int> victim_statuses;
  std::map<grpc::StatusCode, int> flood_codes;
};

// The victim's own event, which the victim reads during the flood.
std::string victim_event_path(Stack& stack, const User& victim, const std::string& key) {
  const Resp created =
      call(stack, "POST", "/", "Token " + key, json{{"parties", {victim.email}}, {"slots", slots()}});
  if (created.status != 201) {
    throw std::runtime_error("cannot create the victim's event: " + created.body);
  }
  return "/" + std::to_string(created.j()["id"].get<long long>()) + "/";
}

// One flooder: wrong Basic passwords for `target` straight to the event
// service until `stop`; counts its calls in `sent` and adds the answers'
// codes to the figures.
void flood_wrong_passwords(const std::shared_ptr<grpc::Channel>& channel, const User& target,
                           const std::atomic<bool>& stop, std::atomic<int>& sent, std::mutex& mutex,
                           FloodFigures& figures) {
  auto stub = ev1::EventService::NewStub(channel);
  std::map<grpc::StatusCode, int> codes;
  for (int n = 0; !stop.load() && n < 100000; ++n) {
    ++sent;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    context.AddMetadata("authorization", basic_auth(target.email, "wrong-" + std::to_string(n)));
    ev1::ListEventsResponse response;
    ++codes[stub->ListEvents(&context, ev1::ListEventsRequest(), &response).error_code()];
  }
  std::lock_guard lock(mutex);
  for (const auto& [code, count] : codes) {
    figures.flood_codes[code] += count;
  }
}

// The victim reads its event with its API key through the gateway for 5 s.
void measure_victim(Stack& stack, const std::string& key, const std::string& path, FloodFigures& figures) {
  std::vector<double> latencies;
  httplib::Client client = stack.http();
  client.set_keep_alive(true);
  const httplib::Headers headers{{"Authorization", "Token " + key}};
  const auto until = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < until && latencies.size() < 100000) {
    const auto started = Clock::now();
    const auto res = client.Get(path.c_str(), headers);
    latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - started).count());
    ++figures.victim_statuses[res ? res->status : 0];
  }
  figures.victim_requests = latencies.size();
  figures.victim_median_ms = median(latencies);
  figures.victim_max_ms = latencies.empty() ? 0 : *std::max_element(latencies.begin(), latencies.end());
}

// 48 clients send wrong Basic passwords straight to the event service for
// ~5 s while one client uses an API key through the gateway.
FloodFigures flood(Stack& stack) {
  const User victim = stack.create_user(unique_email("victim"), "victim-Pass-1");
  const User target = stack.create_user(unique_email("target"), "target-Pass-1");
  const std::string key = token_of(mint(stack, victim.email, victim.password));
  if (key.empty()) {
    throw std::runtime_error("no API key for the victim");
  }
  const std::string path = victim_event_path(stack, victim, key);

  FloodFigures figures;
  std::mutex mutex;
  std::atomic<bool> stop{false};
  std::atomic<int> sent{0};
  std::vector<std::thread> flooders;
  constexpr int kFlooders = 48;
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < 8; ++i) {
    channels.push_back(stack.events_channel());
  }
  for (int i = 0; i < kFlooders; ++i) {
    flooders.emplace_back(
        [&, i] { flood_wrong_passwords(channels[i % channels.size()], target, stop, sent, mutex, figures); });
  }
  // The victim is measured once the flood is under way: as many guesses
  // sent as there are flooders.
  if (!wait_until([&] { return sent.load() >= kFlooders; }, 30s, "every flooder to send a guess")) {
    stop.store(true);
    for (auto& thread : flooders) {
      thread.join();
    }
    throw std::runtime_error("the flood did not start");
  }
  measure_victim(stack, key, path, figures);
  stop.store(true);
  for (auto& thread : flooders) {
    thread.join();
  }
  return figures;
}

std::string describe(const FloodFigures& f) {
  std::string out = "victim: " + std::to_string(f.victim_requests) + " requests, median " +
                    std::to_string(f.victim_median_ms) + " ms, max " + std::to_string(f.victim_max_ms) +
                    " ms; statuses:";
  for (const auto& [status, count] : f.victim_statuses) {
    out += " " + std::to_string(status) + "x" + std::to_string(count);
  }
  out += "; flood codes:";
  for (const auto& [code, count] : f.flood_codes) {
    out += " " + std::to_string(static_cast<int>(code)) + "x" + std::to_string(count);
  }
  return out;
}

int count_of(const FloodFigures& f, grpc::StatusCode code) {
  const auto found = f.flood_codes.find(code);
  return found == f.flood_codes.end() ? 0 : found->second;
}

void expect_unaffected(const FloodFigures& f) {
  EXPECT_GT(f.victim_requests, 10u) << describe(f);
  EXPECT_EQ(f.victim_statuses.size(), 1u) << describe(f);
  EXPECT_EQ(f.victim_statuses.count(200), 1u) << describe(f);
  EXPECT_LT(f.victim_max_ms, 500.0) << describe(f);
  // The flood itself gets 401s and 429s, never the pool's 503 or a timeout.
  for (const auto& [code, count] : f.flood_codes) {
    EXPECT_TRUE(code == grpc::StatusCode::UNAUTHENTICATED || code == grpc::StatusCode::RESOURCE_EXHAUSTED)
        << describe(f);
  }
}

TEST(WrongPasswordFlood, ApiKeyCallersStayFastWhileEveryGuessIsHashed) {
  // Limits out of reach: every wrong password costs an argon2id run.
  auto stack = start_stack(
      {{"CALNDRO_LOGIN_FAILURES_PER_ACCOUNT", "1000000"}, {"CALNDRO_LOGIN_FAILURES_PER_ADDRESS", "1000000"}});
  const FloodFigures figures = flood(*stack);
  std::printf("flood, limits raised: %s\n", describe(figures).c_str());
  expect_unaffected(figures);
  EXPECT_GT(count_of(figures, grpc::StatusCode::UNAUTHENTICATED), 10) << describe(figures);
}

TEST(WrongPasswordFlood, ApiKeyCallersStayFastWithDefaultLimits) {
  auto stack = start_stack({});
  const FloodFigures figures = flood(*stack);
  std::printf("flood, default limits: %s\n", describe(figures).c_str());
  expect_unaffected(figures);
  // The default per-account limit: 10 failures, then 429 whatever the password.
  EXPECT_EQ(count_of(figures, grpc::StatusCode::UNAUTHENTICATED), 10) << describe(figures);
}

}  // namespace
