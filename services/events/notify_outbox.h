#pragma once

#include <pqxx/pqxx>

#include "events/stores.h"

namespace calndro::events {

// NotificationOutbox on PostgreSQL: events.pending_notifications, through
// the statements prepare_outbox_statements() registers on every pooled
// connection. Every function runs in the caller's transaction.
class PgNotificationOutbox final : public NotificationOutbox {
 public:
  PgNotificationOutbox(pqxx::transaction_base& tx, Atomicity atomicity, const CallContext& call)
      : tx_(tx), per_statement_(atomicity == Atomicity::kPerStatement), call_(call) {}

  void add(const PendingNotification& notification, Instant now) override;
  std::vector<PendingNotification> claim_due(Instant now, Instant lease_until, int limit) override;
  void mark_handed_over(const std::string& id, Instant now) override;
  void retry_at(const std::string& id, Instant when, const std::string& error) override;
  void mark_refused(const std::string& id, Instant now, const std::string& error) override;
  NotificationBacklog backlog() override;
  std::vector<QueuedMails> mails_caused_since(std::int64_t event_id, const std::string& caused_by,
                                              Instant since) override;

 private:
  pqxx::transaction_base& tx_;
  const bool per_statement_;
  const CallContext& call_;
};

void prepare_outbox_statements(pqxx::connection& connection);

}  // namespace calndro::events
