// A write whose caller has gone (its deadline passed while it waited for a
// row lock) is rolled back, not committed, when it could go on: a notify's
// transaction, and a PATCH's single statement, which the event service
// cancels at the deadline.
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <sstream>

#include "support/stack.h"
#include "support/wait.h"

using json = nlohmann::json;
using namespace calndro::testing;

namespace {

// A stack whose gateway gives each call 1 s (shared by the suite); each test
// gets one user and one event of theirs.
class Deadlines : public SuiteStackTest<Deadlines> {
 public:
  static StackOptions options() {
    StackOptions options;
    options.env["CALNDRO_RPC_TIMEOUT_MS"] = "1000";
    return options;
  }

 protected:
  void prepare() override {
    user_ = stack().create_user(unique_email("deadline"), "deadline-Pass-1");
    headers_ = {{"Authorization", basic_auth(user_.email, user_.password)}};
    auto created = client().Post(
        "/", headers_, json{{"title", "before"}, {"parties", {user_.email}}, {"slots", slots_}}.dump(),
        "application/json");
    ASSERT_TRUE(created);
    ASSERT_EQ(created->status, 201) << created->body;
    id_ = std::to_string(json::parse(created->body)["id"].get<long long>());
  }

  httplib::Client client() { return stack().http(); }

  // The event service's answer to the last `method` call, from its log;
  // waits up to `timeout` for it. Each test calls its own method, so the
  // suite's shared log holds one such call.
  std::string rpc_answer(const std::string& method, std::chrono::milliseconds timeout) {
    std::string answer;
    (void)wait_until(
        [&] {
          std::istringstream log(stack().events().log());
          for (std::string line; std::getline(log, line);) {
            if (line.find("\"method\":\"" + method + "\"") != std::string::npos &&
                line.find("\"msg\":\"rpc\"") != std::string::npos) {
              answer = line;
            }
          }
          return !answer.empty();
        },
        timeout, "the event service's answer to " + method);
    return answer;
  }

  // Once the database shows no statement of this test's database waiting
  // for a lock, a write the service gave up on cannot land later.
  void wait_no_lock_waits() {
    EXPECT_TRUE(wait_until(
        [&] {
          return stack().db().scalar(
                     "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                     "AND datname = current_database()") == "0";
        },
        10s, "no statement to wait for a lock"));
  }

  User user_;
  httplib::Headers headers_;
  const json slots_ = json::array({{{"begin", "2034-03-04T09:00:00Z"}, {"duration", "00:45"}}});
  std::string id_;
};

TEST_F(Deadlines, ANotifyAnswered504IsRolledBackNotCommittedWhenItsLockComes) {
  // The event's row lock, held elsewhere, keeps the notify waiting inside
  // its transaction until the gateway has given up on it.
  pqxx::connection holder(stack().db().url());
  pqxx::work lock(holder);
  lock.exec("SELECT id FROM events.events WHERE id = " + id_ + " FOR UPDATE");
  auto notified =
      client().Post("/" + id_ + "/notify/", headers_,
                    json{{"parties", {user_.email}}, {"slots", slots_}}.dump(), "application/json");
  ASSERT_TRUE(notified);
  EXPECT_EQ(notified->status, 504) << notified->body;
  lock.commit();

  // The service, its lock granted, refuses to commit: its answer is
  // DEADLINE_EXCEEDED (4) or CANCELLED (1).
  const std::string answer = rpc_answer("NotifyParties", 10s);
  EXPECT_TRUE(answer.find("\"code\":4,") != std::string::npos ||
              answer.find("\"code\":1,") != std::string::npos)
      << answer << stack().events().log_tail();
  const auto written = stack().db().query(
      "SELECT (SELECT count(*) FROM events.log_entries WHERE event_id = " + id_ +
      " AND occurrence = 'NOTIFY'), (SELECT count(*) FROM events.pending_notifications WHERE event_id = " +
      id_ + ")");
  EXPECT_EQ(written[0][0], "0");
  EXPECT_EQ(written[0][1], "0");
}

TEST_F(Deadlines, APatchWaitingForALockIsCancelledAtItsDeadlineAndNeverLands) {
  pqxx::connection holder(stack().db().url());
  pqxx::work lock(holder);
  lock.exec("SELECT id FROM events.events WHERE id = " + id_ + " FOR UPDATE");
  auto patched =
      client().Patch("/" + id_ + "/", headers_, json{{"title", "after"}}.dump(), "application/json");
  ASSERT_TRUE(patched);
  EXPECT_EQ(patched->status, 504) << patched->body;
  // Still holding the lock: the service has already answered, its statement
  // cancelled (DEADLINE_EXCEEDED, 4), rather than waiting for the lock.
  const std::string answer = rpc_answer("UpdateEvent", 3s);
  EXPECT_NE(answer.find("\"code\":4,"), std::string::npos) << answer << stack().events().log_tail();
  wait_no_lock_waits();
  lock.commit();

  const auto row = stack().db().query(
      "SELECT title, version, (SELECT count(*) FROM events.log_entries WHERE event_id = " + id_ +
      " AND occurrence = 'UPDATE') FROM events.events WHERE id = " + id_);
  EXPECT_EQ(row[0][0], "before");
  EXPECT_EQ(row[0][1], "1");
  EXPECT_EQ(row[0][2], "1");  // the create's entry only
  // The service works on: the same PATCH, unhindered, lands.
  auto again = client().Patch("/" + id_ + "/", headers_, json{{"title", "after"}}.dump(), "application/json");
  ASSERT_TRUE(again);
  EXPECT_LT(again->status, 300) << again->body;
  EXPECT_EQ(stack().db().scalar("SELECT title FROM events.events WHERE id = " + id_), "after");
}

}  // namespace
