#pragma once

// An in-memory WebhookRepository for the service's unit tests: webhooks,
// and occurrences a test puts there (the database's trigger records them,
// migration 0014; the integration tests cover it). Not rolled back with a
// refused call.

#include <algorithm>
#include <map>
#include <stdexcept>

#include "events/stores.h"

namespace calndro::events {

class FakeWebhooks final : public WebhookRepository {
 public:
  std::map<std::int64_t, WebhookRecord> webhooks;
  std::vector<std::int64_t> notified;  // record_notified()'s events, in order
  // Occurrences waiting for the relay, oldest first, each with its event.
  std::vector<std::pair<WebhookOccurrence, EventRecord>> occurrences;
  std::int64_t next_id = 1;

  std::int64_t next_webhook_id() override { return next_id++; }
  int count_webhooks(std::int64_t user_id) override {
    int count = 0;
    for (const auto& [id, webhook] : webhooks) {
      count += webhook.user_id == user_id ? 1 : 0;
    }
    return count;
  }
  void insert_webhook(const WebhookRecord& webhook) override {
    if (!webhooks.emplace(webhook.id, webhook).second) {
      throw std::runtime_error("duplicate key in webhooks");
    }
  }
  std::optional<WebhookRecord> find_webhook(std::int64_t id) override {
    const auto it = webhooks.find(id);
    return it == webhooks.end() ? std::nullopt : std::optional(it->second);
  }
  std::vector<WebhookRecord> list_webhooks(std::int64_t user_id, std::int64_t after, int limit) override {
    std::vector<WebhookRecord> out;
    for (const auto& [id, webhook] : webhooks) {
      if (webhook.user_id == user_id && id > after && static_cast<int>(out.size()) <= limit) {
        out.push_back(webhook);
      }
    }
    return out;
  }
  bool delete_webhook(std::int64_t id) override { return webhooks.erase(id) > 0; }
  void record_notified(std::int64_t event_id) override { notified.push_back(event_id); }
  bool lock_relay() override { return true; }
  std::vector<WebhookOccurrence> oldest_occurrences(int limit, std::vector<EventRecord>& events) override {
    std::vector<WebhookOccurrence> out;
    for (const auto& [occurrence, event] : occurrences) {
      if (static_cast<int>(out.size()) < limit) {
        out.push_back(occurrence);
        events.push_back(event);
      }
    }
    return out;
  }
  void delete_occurrences(const std::vector<std::int64_t>& ids) override {
    std::erase_if(occurrences, [&](const auto& waiting) {
      return std::find(ids.begin(), ids.end(), waiting.first.id) != ids.end();
    });
  }
};

}  // namespace calndro::events
