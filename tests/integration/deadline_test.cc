// A write whose caller has gone (its deadline passed while it waited for a
// row lock) is rolled back, not committed, when it could go on: a notify's
// transaction, and a PATCH's single statement, which the event service
// cancels at the deadline.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <sstream>
#include <thread>

#include "support/stack.h"

using json = nlohmann::json;
using namespace calndro::testing;

namespace {

TEST(Deadlines, ANotifyAnswered504IsRolledBackNotCommittedWhenItsLockComes) {
  StackOptions options;
  options.env["CALNDRO_RPC_TIMEOUT_MS"] = "1000";
  Stack stack(options);
  const User user = stack.create_user(unique_email("deadline"), "deadline-Pass-1");
  const httplib::Headers headers = {{"Authorization", basic_auth(user.email, user.password)}};
  const json slots = json::array({{{"begin", "2034-03-04T09:00:00Z"}, {"duration", "00:45"}}});
  httplib::Client client = stack.http();
  auto created =
      client.Post("/", headers, json{{"title", "before"}, {"parties", {user.email}}, {"slots", slots}}.dump(),
                  "application/json");
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201) << created->body;
  const std::string id = std::to_string(json::parse(created->body)["id"].get<long long>());

  // The event's row lock, held elsewhere, keeps the notify waiting inside
  // its transaction until the gateway has given up on it.
  pqxx::connection holder(stack.db().url());
  pqxx::work lock(holder);
  lock.exec("SELECT id FROM events.events WHERE id = " + id + " FOR UPDATE");
  auto notified = client.Post("/" + id + "/notify/", headers,
                              json{{"parties", {user.email}}, {"slots", slots}}.dump(), "application/json");
  ASSERT_TRUE(notified);
  EXPECT_EQ(notified->status, 504) << notified->body;
  lock.commit();

  // The service, its lock granted, refuses to commit: wait for its answer
  // (DEADLINE_EXCEEDED, 4, or CANCELLED, 1).
  std::string answer;
  for (int i = 0; i < 100 && answer.empty(); ++i) {
    std::istringstream log(stack.events().log());
    for (std::string line; std::getline(log, line);) {
      if (line.find("\"method\":\"NotifyParties\"") != std::string::npos &&
          line.find("\"msg\":\"rpc\"") != std::string::npos) {
        answer = line;
      }
    }
    if (answer.empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  EXPECT_TRUE(answer.find("\"code\":4,") != std::string::npos ||
              answer.find("\"code\":1,") != std::string::npos)
      << answer << stack.events().log_tail();
  const auto written = stack.db().query(
      "SELECT (SELECT count(*) FROM events.log_entries WHERE event_id = " + id +
      " AND occurrence = 'NOTIFY'), (SELECT count(*) FROM events.pending_notifications WHERE event_id = " +
      id + ")");
  EXPECT_EQ(written[0][0], "0");
  EXPECT_EQ(written[0][1], "0");
}

// The event service's answer to the last `method` call, from its log.
std::string rpc_answer(Stack& stack, const std::string& method) {
  std::string answer;
  std::istringstream log(stack.events().log());
  for (std::string line; std::getline(log, line);) {
    if (line.find("\"method\":\"" + method + "\"") != std::string::npos &&
        line.find("\"msg\":\"rpc\"") != std::string::npos) {
      answer = line;
    }
  }
  return answer;
}

TEST(Deadlines, APatchWaitingForALockIsCancelledAtItsDeadlineAndNeverLands) {
  StackOptions options;
  options.env["CALNDRO_RPC_TIMEOUT_MS"] = "1000";
  Stack stack(options);
  const User user = stack.create_user(unique_email("deadline-patch"), "deadline-Pass-1");
  const httplib::Headers headers = {{"Authorization", basic_auth(user.email, user.password)}};
  const json slots = json::array({{{"begin", "2034-03-04T09:00:00Z"}, {"duration", "00:45"}}});
  httplib::Client client = stack.http();
  auto created =
      client.Post("/", headers, json{{"title", "before"}, {"parties", {user.email}}, {"slots", slots}}.dump(),
                  "application/json");
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201) << created->body;
  const std::string id = std::to_string(json::parse(created->body)["id"].get<long long>());

  pqxx::connection holder(stack.db().url());
  pqxx::work lock(holder);
  lock.exec("SELECT id FROM events.events WHERE id = " + id + " FOR UPDATE");
  auto patched = client.Patch("/" + id + "/", headers, json{{"title", "after"}}.dump(), "application/json");
  ASSERT_TRUE(patched);
  EXPECT_EQ(patched->status, 504) << patched->body;
  // Still holding the lock: the service has already answered, its statement
  // cancelled (DEADLINE_EXCEEDED, 4), rather than waiting for the lock.
  std::string answer;
  for (int i = 0; i < 30 && answer.empty(); ++i) {
    answer = rpc_answer(stack, "UpdateEvent");
    if (answer.empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  EXPECT_NE(answer.find("\"code\":4,"), std::string::npos) << answer << stack.events().log_tail();
  lock.commit();

  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const auto row = stack.db().query(
      "SELECT title, version, (SELECT count(*) FROM events.log_entries WHERE event_id = " + id +
      " AND occurrence = 'UPDATE') FROM events.events WHERE id = " + id);
  EXPECT_EQ(row[0][0], "before");
  EXPECT_EQ(row[0][1], "1");
  EXPECT_EQ(row[0][2], "1");  // the create's entry only
  // The service works on: the same PATCH, unhindered, lands.
  auto again = client.Patch("/" + id + "/", headers, json{{"title", "after"}}.dump(), "application/json");
  ASSERT_TRUE(again);
  EXPECT_LT(again->status, 300) << again->body;
  EXPECT_EQ(stack.db().scalar("SELECT title FROM events.events WHERE id = " + id), "after");
}

}  // namespace
