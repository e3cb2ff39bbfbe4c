#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/text/clock.h"

// What the webhook RPCs and the webhook relay need from the database
// (migration 0014): the webhooks this service owns, and the occurrences the
// event writes recorded for them. records.h-style plain data, an interface
// for the fakes, and PgWebhookRepository (webhook_store.h) on PostgreSQL.
namespace calndro::events {

struct EventRecord;

struct WebhookRecord {
  std::int64_t id = 0;
  std::int64_t user_id = 0;
  std::string url;
  std::vector<std::string> types;
  Instant created_at;
};

// One occurrence for one webhook, as the relay hands it over.
struct WebhookOccurrence {
  std::int64_t id = 0;
  std::int64_t webhook_id = 0;
  std::int64_t event_id = 0;
  std::int64_t version = 0;
  std::string type;
  Instant occurred_at;
  std::int64_t creator_id = 0;  // the event's creator (the webhook's owner)
  std::string creator;          // the creator's email
};

class WebhookRepository {
 public:
  virtual ~WebhookRepository() = default;

  // A new webhook id, before the webhook is stored (its endpoint is
  // registered under it first).
  virtual std::int64_t next_webhook_id() = 0;
  virtual int count_webhooks(std::int64_t user_id) = 0;
  virtual void insert_webhook(const WebhookRecord& webhook) = 0;
  virtual std::optional<WebhookRecord> find_webhook(std::int64_t id) = 0;
  // The user's webhooks by id, after `after`, at most `limit` + 1 (the one
  // past the page says there is more).
  virtual std::vector<WebhookRecord> list_webhooks(std::int64_t user_id, std::int64_t after, int limit) = 0;
  // Deletes the webhook and the occurrences still waiting for it; false
  // when there was none.
  virtual bool delete_webhook(std::int64_t id) = 0;
  // An event.notified occurrence of the event, at its current version, for
  // each of its creator's webhooks that takes that type (the other types
  // are recorded by the database itself, migration 0014).
  virtual void record_notified(std::int64_t event_id) = 0;

  // The relay's side. Takes the relay's lock for the transaction; false
  // when another replica's relay holds it (one relay at a time keeps each
  // event's occurrences in order across replicas).
  virtual bool lock_relay() = 0;
  // The oldest `limit` occurrences, by id, with the event as the write left
  // it (into `events`, one per occurrence).
  virtual std::vector<WebhookOccurrence> oldest_occurrences(int limit, std::vector<EventRecord>& events) = 0;
  virtual void delete_occurrences(const std::vector<std::int64_t>& ids) = 0;
};

}  // namespace calndro::events
