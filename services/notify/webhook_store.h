#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "common/text/clock.h"
#include "notify/stores.h"

// The webhook side of the notification service's storage (migration 0005):
// endpoints, the delivery outbox and the attempts. An interface, so the
// RPCs and the dispatcher take it in their constructors, and its
// PostgreSQL implementation (SQL only; the callers own the transactions).
namespace calndro::notify {

struct WebhookEndpoint {
  std::int64_t webhook_id = 0;
  std::string url;
  std::string secret_sealed;  // SecretBox::seal() of the secret
};

struct WebhookMessageRecord {
  std::string message_id;
  std::int64_t webhook_id = 0;
  std::int64_t event_id = 0;
  std::int64_t sequence = 0;
  std::string type;
  std::int64_t version = 0;
  Instant occurred_at;
  std::string body;
};

// A message leased to one dispatcher worker, with where it goes.
struct ClaimedWebhookMessage {
  WebhookMessageRecord message;
  int attempts = 0;  // before this one
  std::string url;
  std::string secret_sealed;
  std::string lease_owner;  // this claim's, unique
};

enum class WebhookMessageState { kQueued, kDelivered, kFailed };

// What one attempt found and what becomes of the message.
struct WebhookAttemptOutcome {
  Instant at;
  std::optional<int> status;  // the HTTP status, when there was an answer
  std::optional<std::string> error;
  WebhookMessageState next = WebhookMessageState::kQueued;
  Instant next_attempt_at;  // kQueued only
};

struct WebhookAttemptRow {
  std::int64_t id = 0;
  std::int64_t webhook_id = 0;
  std::string message_id;
  std::string type;
  std::int64_t version = 0;
  int attempt = 0;
  Instant at;
  std::optional<int> status;
  std::optional<std::string> error;
};

class WebhookStore {
 public:
  virtual ~WebhookStore() = default;

  // False when the id has an endpoint already.
  virtual bool insert_endpoint(Transaction& tx, const WebhookEndpoint& endpoint) = 0;
  // With its messages and attempts.
  virtual void remove_endpoint(Transaction& tx, std::int64_t webhook_id) = 0;
  virtual bool endpoint_exists(Transaction& tx, std::int64_t webhook_id) = 0;
  // Queues the message unless its id is queued already.
  virtual void enqueue_message(Transaction& tx, const WebhookMessageRecord& message) = 0;
  // Leases the next due message to `lease_owner` for `lease` (database
  // clock): the oldest due one that is the first still queued of its
  // (webhook, event); nothing when none is due.
  virtual std::optional<ClaimedWebhookMessage> claim_message(Transaction& tx, const std::string& lease_owner,
                                                             std::chrono::milliseconds lease) = 0;
  // Records the attempt and ends the lease; false (nothing changed) when
  // the lease no longer holds the message.
  virtual bool record_attempt(Transaction& tx, const ClaimedWebhookMessage& claimed,
                              const WebhookAttemptOutcome& outcome) = 0;
  // Newest first; before_id 0: from the newest.
  virtual std::vector<WebhookAttemptRow> list_attempts(Transaction& tx, std::int64_t webhook_id,
                                                       std::int64_t before_id, int limit) = 0;
  // Retention: at most `batch` delivered or failed messages finished more
  // than `days` ago, and as many attempts made before then; the larger of
  // the two counts deleted.
  virtual int purge_finished(Transaction& tx, int days, int batch) = 0;
};

class PgWebhookStore final : public WebhookStore {
 public:
  static void prepare(pqxx::connection& connection);

  bool insert_endpoint(Transaction& tx, const WebhookEndpoint& endpoint) override;
  void remove_endpoint(Transaction& tx, std::int64_t webhook_id) override;
  bool endpoint_exists(Transaction& tx, std::int64_t webhook_id) override;
  void enqueue_message(Transaction& tx, const WebhookMessageRecord& message) override;
  std::optional<ClaimedWebhookMessage> claim_message(Transaction& tx, const std::string& lease_owner,
                                                     std::chrono::milliseconds lease) override;
  bool record_attempt(Transaction& tx, const ClaimedWebhookMessage& claimed,
                      const WebhookAttemptOutcome& outcome) override;
  std::vector<WebhookAttemptRow> list_attempts(Transaction& tx, std::int64_t webhook_id,
                                               std::int64_t before_id, int limit) override;
  int purge_finished(Transaction& tx, int days, int batch) override;
};

}  // namespace calndro::notify
