// The body of a webhook message (SPEC §11): {"type", "timestamp",
// "version", "data"}, data the event as its creator sees it at that version
// (the REST representation, URLs on the public base), {"id"} once deleted.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "events/webhook_relay.h"
#include "fakes.h"

namespace calndro::events {
namespace {

namespace notify_v1 = calndro::notify::v1;

EventRecord hidden_answers_event() {
  EventRecord event;
  event.id = 42;
  event.title = "Café \"quoted\"";
  event.creator = "ann@example.com";
  event.parties = {"ann@example.com", "bob@example.com"};
  const Slot slot{Instant(Micros(1956528000000000)), Micros(1800000000)};
  event.slots = {slot};
  event.version = 3;
  event.hide_answers = true;
  event.answers = {{"bob@example.com", {SlotAnswer{slot, Answer::kYes}}}};
  return event;
}

WebhookOccurrence occurrence(const std::string& type) {
  WebhookOccurrence occurrence;
  occurrence.id = 9;
  occurrence.webhook_id = 2;
  occurrence.event_id = 42;
  occurrence.version = 3;
  occurrence.type = type;
  occurrence.occurred_at = Instant(Micros(1767225600123456));
  occurrence.creator_id = 1;
  occurrence.creator = "ann@example.com";
  return occurrence;
}

TEST(WebhookMessageBody, CarriesTheEventAsItsCreatorSeesIt) {
  const std::string body =
      webhook_message_body(occurrence("event.answered"), hidden_answers_event(), "https://calndro.example");
  const nlohmann::json parsed = nlohmann::json::parse(body);
  EXPECT_EQ(parsed["type"], "event.answered");
  EXPECT_EQ(parsed["version"], 3);
  EXPECT_EQ(parsed["timestamp"], "2026-01-01T00:00:00.123456Z");
  const nlohmann::json& data = parsed["data"];
  EXPECT_EQ(data["id"], 42);
  EXPECT_EQ(data["url"], "https://calndro.example/42/");
  EXPECT_EQ(data["title"], "Café \"quoted\"");
  EXPECT_EQ(data["state"], "open");
  // The creator sees every answer, even of an event that hides them from the others.
  ASSERT_TRUE(data["answers"].contains("bob@example.com")) << data;
  EXPECT_EQ(data["slots"][0]["duration"], "00:30:00");
}

TEST(WebhookMessageBody, ADeletedEventIsItsIdOnly) {
  const std::string body =
      webhook_message_body(occurrence("event.deleted"), hidden_answers_event(), "https://calndro.example");
  EXPECT_EQ(nlohmann::json::parse(body), nlohmann::json({{"type", "event.deleted"},
                                                         {"timestamp", "2026-01-01T00:00:00.123456Z"},
                                                         {"version", 3},
                                                         {"data", {{"id", 42}}}}));
}

// The notification service's side: refuses a request holding a message in
// `invalid` as notify's check_messages() does (the whole request), and
// records what it queued.
class RefusingEndpoints final : public WebhookEndpoints {
 public:
  std::vector<std::string> invalid;
  std::vector<std::string> queued;  // message ids, in order
  absl::Status unavailable = absl::OkStatus();

  absl::StatusOr<std::string> register_endpoint(std::int64_t, const std::string&,
                                                const std::string&) override {
    return "whsec_x";
  }
  absl::Status remove_endpoint(std::int64_t, const std::string&) override { return absl::OkStatus(); }
  absl::Status queue_messages(const notify_v1::QueueWebhookMessagesRequest& request,
                              notify_v1::QueueWebhookMessagesResponse&) override {
    if (!unavailable.ok()) {
      return unavailable;
    }
    for (const auto& message : request.messages()) {
      if (std::find(invalid.begin(), invalid.end(), message.message_id()) != invalid.end()) {
        return absl::InvalidArgumentError(
            "messages: type, body (at most 1 MiB) and occurred_at are required.");
      }
    }
    for (const auto& message : request.messages()) {
      queued.push_back(message.message_id());
    }
    return absl::OkStatus();
  }
  absl::Status list_attempts(const notify_v1::ListWebhookAttemptsRequest&, const std::string&,
                             notify_v1::ListWebhookAttemptsResponse&) override {
    return absl::OkStatus();
  }
};

// `count` occurrences with ids from `first_id`, waiting for the relay.
void add_waiting_occurrences(FakeStores& database, std::int64_t first_id, int count) {
  for (int i = 0; i < count; ++i) {
    WebhookOccurrence waiting = occurrence("event.updated");
    waiting.id = first_id + i;
    database.webhooks.occurrences.emplace_back(waiting, hidden_answers_event());
  }
}

TEST(WebhookRelay, AMessageRefusedAsInvalidIsDroppedAndTheOthersGoOn) {
  FakeStores database;
  RefusingEndpoints endpoints;
  WebhookRelay relay(database, endpoints, {}, WebhookRelay::Driver::kCaller);
  add_waiting_occurrences(database, 10, 3);
  endpoints.invalid = {"msg_11"};
  const auto relayed = relay.relay_once();
  ASSERT_TRUE(relayed.ok()) << relayed.status();
  EXPECT_EQ(*relayed, 3);
  EXPECT_EQ(endpoints.queued, (std::vector<std::string>{"msg_10", "msg_12"}));
  EXPECT_TRUE(database.webhooks.occurrences.empty());
}

TEST(WebhookRelay, ANotificationServiceThatCannotBeReachedKeepsEveryOccurrence) {
  FakeStores database;
  RefusingEndpoints endpoints;
  WebhookRelay relay(database, endpoints, {}, WebhookRelay::Driver::kCaller);
  add_waiting_occurrences(database, 10, 2);
  endpoints.unavailable = absl::UnavailableError("notify is down");
  EXPECT_EQ(relay.relay_once().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(database.webhooks.occurrences.size(), 2u);
  endpoints.unavailable = absl::OkStatus();
  ASSERT_TRUE(relay.relay_once().ok());
  EXPECT_EQ(endpoints.queued, (std::vector<std::string>{"msg_10", "msg_11"}));
}

}  // namespace
}  // namespace calndro::events
