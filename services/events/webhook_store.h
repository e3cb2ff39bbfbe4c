#pragma once

#include <pqxx/pqxx>

#include "events/pg_statements.h"
#include "events/stores.h"

namespace calndro::events {

// WebhookRepository on PostgreSQL: events.webhooks and
// events.webhook_occurrences (migration 0014), through the statements
// prepare_webhook_statements() registers on every pooled connection. Every
// function runs in the caller's transaction.
class PgWebhookRepository final : public WebhookRepository, private PgStatements {
 public:
  using PgStatements::PgStatements;

  std::int64_t next_webhook_id() override;
  int count_webhooks(std::int64_t user_id) override;
  void insert_webhook(const WebhookRecord& webhook) override;
  std::optional<WebhookRecord> find_webhook(std::int64_t id) override;
  std::vector<WebhookRecord> list_webhooks(std::int64_t user_id, std::int64_t after, int limit) override;
  bool delete_webhook(std::int64_t id) override;
  void record_notified(std::int64_t event_id) override;
  bool lock_relay() override;
  std::vector<WebhookOccurrence> oldest_occurrences(int limit, std::vector<EventRecord>& events) override;
  void delete_occurrences(const std::vector<std::int64_t>& ids) override;
};

void prepare_webhook_statements(pqxx::connection& connection);

}  // namespace calndro::events
