// The body of a webhook message (SPEC §11): {"type", "timestamp",
// "version", "data"}, data the event as its creator sees it at that version
// (the REST representation, URLs on the public base), {"id"} once deleted.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "events/webhook_relay.h"

namespace calndro::events {
namespace {

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

}  // namespace
}  // namespace calndro::events
