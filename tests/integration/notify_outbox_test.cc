// Notify through the event service's outbox: accepted while the
// notification service is down, and each accepted notify mailed exactly
// once across kill -9 of either service.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/stack.h"
#include "support/wait.h"

using json = nlohmann::json;
using namespace calndro::testing;

namespace {

class NotifyOutbox : public SuiteStackTest<NotifyOutbox> {
 public:
  static StackOptions options() {
    return prompt_mail_options({{"CALNDRO_NOTIFY_RELAY_MAX_BACKOFF_SECONDS", "1"}});
  }

 protected:
  void prepare() override {
    user_ = stack().create_user(unique_email("outbox"), "outbox-Pass-1");
    guest_ = unique_email("outboxguest");
    httplib::Client client = stack().http();
    auto created =
        client.Post("/", headers(), json{{"parties", {user_.email, guest_}}, {"slots", slots_}}.dump(),
                    "application/json");
    ASSERT_TRUE(created);
    ASSERT_EQ(created->status, 201) << created->body;
    id_ = std::to_string(json::parse(created->body)["id"].get<long long>());
  }

  httplib::Headers headers() const { return {{"Authorization", basic_auth(user_.email, user_.password)}}; }

  int notify_guest() {
    httplib::Client client = stack().http();
    auto reply = client.Post("/" + id_ + "/notify/", headers(),
                             json{{"parties", {guest_}}, {"slots", slots_}}.dump(), "application/json");
    return reply ? reply->status : -1;
  }

  std::string pending_count() {
    return stack().db().query(
        "SELECT count(*) FROM events.pending_notifications WHERE state = 'pending' "
        "AND event_id = " +
        id_)[0][0];
  }

  // Removes the event's latest log entry of `occurrence`. The log is
  // append-only: only a session without triggers can tamper with it.
  void delete_last_entry(const std::string& occurrence) {
    stack().db().exec(
        "SET session_replication_role = replica; DELETE FROM events.log_entries WHERE id = (SELECT max(id) "
        "FROM events.log_entries WHERE occurrence = '" +
        occurrence + "' AND event_id = " + id_ + ")");
  }

  // `calndro-admin check` finds the database inconsistent and says `problem`.
  void expect_check_names(const std::string& problem) {
    const CommandResult check = stack().admin({"check"});
    EXPECT_EQ(check.exit_code, 1) << check.output();
    EXPECT_NE(check.err.find(problem), std::string::npos) << check.output();
  }

  int mails_to_guest() { return static_cast<int>(stack().smtp().messages_to(guest_).size()); }

  User user_;
  std::string guest_, id_;
  const json slots_ = json::array({{{"begin", "2033-03-04T09:00:00Z"}, {"duration", "00:45"}}});
};

TEST_F(NotifyOutbox, AcceptedWhileTheNotificationServiceIsDownAndMailedOnceItIsBack) {
  stack().notify().terminate();
  EXPECT_EQ(notify_guest(), 202);
  // A relay round fails meanwhile, and the notify stays pending.
  EXPECT_TRUE(wait_until(
      [&] {
        return stack().db().scalar(
                   "SELECT count(*) FROM events.pending_notifications WHERE state = 'pending' "
                   "AND last_error IS NOT NULL AND event_id = " +
                   id_) == "1";
      },
      10s, "a failed hand-over to the stopped notification service"));
  EXPECT_EQ(pending_count(), "1");
  EXPECT_EQ(mails_to_guest(), 0);
  stack().notify().start();
  stack().wait_ready();
  stack().smtp().wait_for_to(guest_, 1, std::chrono::seconds(30));
  wait_mail_settled(stack(), id_);
  EXPECT_EQ(mails_to_guest(), 1);
  const auto log = stack().db().query(
      "SELECT count(*) FROM events.log_entries WHERE occurrence = 'NOTIFY' "
      "AND event_id = " +
      id_);
  EXPECT_EQ(log[0][0], "1");
}

TEST_F(NotifyOutbox, KillingTheEventServiceRightAfterTheAcceptLosesNoMail) {
  stack().notify().terminate();
  ASSERT_EQ(notify_guest(), 202);
  stack().events().kill9();
  stack().notify().start();
  stack().events().start();
  stack().wait_ready();
  // A notify the killed process had claimed waits out its claim's lease
  // (30 s, services/events/outbox_relay.h) before the new process takes it:
  // the deadline leaves room beyond that.
  stack().smtp().wait_for_to(guest_, 1, std::chrono::seconds(60));
  wait_mail_settled(stack(), id_);
  EXPECT_EQ(mails_to_guest(), 1);
}

TEST_F(NotifyOutbox, KillingTheNotificationServiceDuringTheHandOverDoublesNoMail) {
  constexpr int kNotifies = 5;
  for (int i = 0; i < kNotifies; ++i) {
    ASSERT_EQ(notify_guest(), 202);
  }
  stack().notify().kill9();
  stack().notify().start();
  stack().wait_ready();
  stack().smtp().wait_for_to(guest_, kNotifies, std::chrono::seconds(30));
  wait_mail_settled(stack(), id_);
  // One queued mail per notify: the relay's repeated hand-over is absorbed
  // by the request id. The SMTP leg is at least once (a kill between the
  // server's accept and the mark sends that mail again), so mails >= notifies.
  EXPECT_GE(mails_to_guest(), kNotifies);
  const auto rows = stack().db().query(
      "SELECT count(*) FROM notify.outbox o JOIN events.pending_notifications p ON p.id = o.request_id "
      "WHERE p.event_id = " +
      id_);
  EXPECT_EQ(rows[0][0], std::to_string(kNotifies));
}

TEST_F(NotifyOutbox, CheckPassesOnAConsistentDatabaseAndNamesATamperedOne) {
  ASSERT_EQ(notify_guest(), 202);
  stack().smtp().wait_for_to(guest_, 1, std::chrono::seconds(30));
  wait_mail_settled(stack(), id_);
  const CommandResult consistent = stack().admin({"check"});
  EXPECT_EQ(consistent.exit_code, 0) << consistent.output();

  delete_last_entry("NOTIFY");
  expect_check_names("event " + id_ + ": 1 accepted notify(s) to " + guest_ + " but 0 NOTIFY log entries");

  stack().db().exec("DELETE FROM notify.outbox WHERE event_id = " + id_);
  expect_check_names("was handed over but has no mail to " + guest_);
}

TEST_F(NotifyOutbox, CheckNamesAnEventWhoseVersionDisagreesWithItsLog) {
  httplib::Client client = stack().http();
  auto patched =
      client.Patch("/" + id_ + "/", headers(), json{{"title", "versioned"}}.dump(), "application/json");
  ASSERT_TRUE(patched);
  ASSERT_LT(patched->status, 300) << patched->body;
  ASSERT_EQ(notify_guest(), 202);  // a notify changes no version
  const std::string named = "event " + id_ + ": version";
  const CommandResult consistent = stack().admin({"check"});
  EXPECT_EQ(consistent.output().find(named), std::string::npos) << consistent.output();

  stack().db().exec("UPDATE events.events SET version = 7 WHERE id = " + id_);
  expect_check_names(named + " 7 but its log implies 2");

  // Back to 2, then the PATCH's entry removed.
  stack().db().exec("UPDATE events.events SET version = 2 WHERE id = " + id_);
  delete_last_entry("UPDATE");
  expect_check_names(named + " 2 but its log implies 1");
}

}  // namespace
