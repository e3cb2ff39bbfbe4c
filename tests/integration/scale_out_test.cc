// Scale-out on one machine: two replicas of the event service behind
// the gateway's round_robin client and two of the notification service
// behind the event service's. Calls spread over both replicas of each, and
// no mail is sent twice. (The whole HTTP suite also runs in this shape:
// deploy/test.sh runs it again with CALNDRO_TEST_REPLICAS=2.)
#include <gtest/gtest.h>
#include <httplib.h>

#include <map>
#include <nlohmann/json.hpp>

#include "support/stack.h"

using namespace calndro::testing;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

int count_of(const std::string& text, const std::string& needle) {
  int count = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

TEST(ScaleOut, TwoReplicasOfEachServiceShareTheWorkAndSendEachMailOnce) {
  StackOptions options;
  options.replicas = 2;
  options.notify = StackOptions::Notify::kRequired;
  Stack stack(options);
  ASSERT_EQ(stack.replicas(), 2);
  const User user = stack.create_user(unique_email("scale"), "scale-Pass-1");
  const std::string auth = basic_auth(user.email, user.password);
  const json slots = json::array({{{"begin", "2032-03-04T09:00:00Z"}, {"duration", "00:45"}}});

  constexpr int kEvents = 20;
  std::vector<std::string> guests;
  for (int i = 0; i < kEvents; ++i) {
    const std::string guest = unique_email("scaleguest");
    guests.push_back(guest);
    httplib::Client client = stack.http();
    const httplib::Headers headers = {{"Authorization", auth}};
    auto created = client.Post("/", headers, json{{"parties", {user.email, guest}}, {"slots", slots}}.dump(),
                               "application/json");
    ASSERT_TRUE(created);
    ASSERT_EQ(created->status, 201) << created->body;
    const std::string id = std::to_string(json::parse(created->body)["id"].get<long long>());
    auto notified = client.Post("/" + id + "/notify/", headers,
                                json{{"parties", {guest}}, {"slots", slots}}.dump(), "application/json");
    ASSERT_TRUE(notified);
    ASSERT_EQ(notified->status, 202) << notified->body;
  }
  for (const auto& guest : guests) {
    stack.smtp().wait_for_to(guest, 1, 60s);
  }
  // About time: a mail sent twice (two replicas claiming it) would arrive
  // after the first copy, with nothing else to show it; a window of quiet does.
  std::this_thread::sleep_for(1s);
  std::map<std::string, int> mails_per_recipient;
  for (const auto& guest : guests) {
    mails_per_recipient[guest] = static_cast<int>(stack.smtp().messages_to(guest).size());
    EXPECT_EQ(mails_per_recipient[guest], 1) << guest;
  }

  // Both event-service replicas served calls (round_robin alternates, so
  // count every call, not one kind); both notification replicas queued mails.
  const std::string served = "\"msg\":\"rpc\"";
  const int first_events = count_of(stack.events().log(), served);
  const int second_events = count_of(stack.events_replica()->log(), served);
  EXPECT_EQ(first_events + second_events, 2 * kEvents);
  EXPECT_GE(first_events, kEvents / 2);
  EXPECT_GE(second_events, kEvents / 2) << stack.events_replica()->log_tail();
  const std::string queued = "QueueNotifications";
  EXPECT_GT(count_of(stack.notify().log(), queued), 0) << stack.notify().log_tail();
  EXPECT_GT(count_of(stack.notify_replica()->log(), queued), 0) << stack.notify_replica()->log_tail();

  // One replica of each going away leaves the service working.
  ASSERT_EQ(stack.events_replica()->terminate(), 0);
  ASSERT_EQ(stack.notify_replica()->terminate(), 0);
  for (int i = 0; i < 4; ++i) {
    httplib::Client client = stack.http();
    auto listed = client.Get("/", httplib::Headers{{"Authorization", auth}});
    ASSERT_TRUE(listed);
    EXPECT_EQ(listed->status, 200) << listed->body;
  }
}

}  // namespace
