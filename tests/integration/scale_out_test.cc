// Scale-out on one machine: two replicas of the event service behind
// the gateway's round_robin client and two of the notification service
// behind the event service's. Calls spread over both replicas of each, and
// no mail is sent twice. (The whole HTTP suite also runs in this shape:
// deploy/test.sh runs it again with CALNDRO_TEST_REPLICAS=2.)
#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

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

// Every process logs one line per RPC it serves.
constexpr const char* kServed = "\"msg\":\"rpc\"";
constexpr int kEvents = 20;

// One stack of two replicas of each service for the suite.
class ScaleOut : public SuiteStackTest<ScaleOut> {
 public:
  static StackOptions options() {
    StackOptions options;
    options.replicas = 2;
    options.notify = StackOptions::Notify::kRequired;
    return options;
  }

 protected:
  void prepare() override {
    ASSERT_EQ(stack().replicas(), 2);
    user_ = stack().create_user(unique_email("scale"), "scale-Pass-1");
  }

  httplib::Headers headers() const { return {{"Authorization", basic_auth(user_.email, user_.password)}}; }

  // kEvents events, each notifying a guest of its own: the guests.
  std::vector<std::string> create_and_notify_events() {
    const json slots = json::array({{{"begin", "2032-03-04T09:00:00Z"}, {"duration", "00:45"}}});
    std::vector<std::string> guests;
    for (int i = 0; i < kEvents; ++i) {
      const std::string guest = unique_email("scaleguest");
      httplib::Client client = stack().http();
      auto created =
          client.Post("/", headers(), json{{"parties", {user_.email, guest}}, {"slots", slots}}.dump(),
                      "application/json");
      EXPECT_TRUE(created && created->status == 201) << (created ? created->body : "no answer");
      if (!created || created->status != 201) {
        break;
      }
      const std::string id = std::to_string(json::parse(created->body)["id"].get<long long>());
      auto notified = client.Post("/" + id + "/notify/", headers(),
                                  json{{"parties", {guest}}, {"slots", slots}}.dump(), "application/json");
      EXPECT_TRUE(notified && notified->status == 202) << (notified ? notified->body : "no answer");
      guests.push_back(guest);
    }
    return guests;
  }

  User user_;
};

TEST_F(ScaleOut, EachMailIsSentOnceThoughTwoReplicasClaimMails) {
  const std::vector<std::string> guests = create_and_notify_events();
  ASSERT_EQ(guests.size(), static_cast<std::size_t>(kEvents));
  for (const auto& guest : guests) {
    stack().smtp().wait_for_to(guest, 1, 60s);
  }
  // About time: a mail sent twice (two replicas claiming it) would arrive
  // after the first copy, with nothing else to show it; a window of quiet does.
  std::this_thread::sleep_for(1s);
  for (const auto& guest : guests) {
    EXPECT_EQ(stack().smtp().messages_to(guest).size(), 1u) << guest;
  }
}

// round_robin alternates, so every call counts, not one kind.
TEST_F(ScaleOut, CallsSpreadOverBothEventServiceReplicas) {
  const int first_before = count_of(stack().events().log(), kServed);
  const int second_before = count_of(stack().events_replica()->log(), kServed);
  ASSERT_EQ(create_and_notify_events().size(), static_cast<std::size_t>(kEvents));
  const int first = count_of(stack().events().log(), kServed) - first_before;
  const int second = count_of(stack().events_replica()->log(), kServed) - second_before;
  EXPECT_EQ(first + second, 2 * kEvents);
  EXPECT_GE(first, kEvents / 2) << stack().events().log_tail();
  EXPECT_GE(second, kEvents / 2) << stack().events_replica()->log_tail();
}

TEST_F(ScaleOut, BothNotificationServiceReplicasQueueMails) {
  const std::string queued = "QueueNotifications";
  const int first_before = count_of(stack().notify().log(), queued);
  const int second_before = count_of(stack().notify_replica()->log(), queued);
  for (const auto& guest : create_and_notify_events()) {
    stack().smtp().wait_for_to(guest, 1, 60s);
  }
  EXPECT_GT(count_of(stack().notify().log(), queued), first_before) << stack().notify().log_tail();
  EXPECT_GT(count_of(stack().notify_replica()->log(), queued), second_before)
      << stack().notify_replica()->log_tail();
}

TEST_F(ScaleOut, OneReplicaOfEachGoingAwayLeavesTheServiceWorking) {
  ASSERT_EQ(stack().events_replica()->terminate(), 0);
  ASSERT_EQ(stack().notify_replica()->terminate(), 0);
  for (int i = 0; i < 4; ++i) {
    httplib::Client client = stack().http();
    auto listed = client.Get("/", headers());
    ASSERT_TRUE(listed);
    EXPECT_EQ(listed->status, 200) << listed->body;
  }
}

}  // namespace
