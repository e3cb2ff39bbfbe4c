#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "events/background_rounds.h"
#include "events/stores.h"
#include "events/webhook_endpoints.h"

namespace calndro::events {

struct WebhookRelayOptions {
  // How often the relay looks for occurrences (CALNDRO_WEBHOOK_RELAY_POLL_MS):
  // they are written by the database itself, whichever replica served the
  // write, so the relay polls rather than being woken.
  std::chrono::milliseconds poll{250};
  int batch = 50;
  // The base of the URLs in the event a message carries (the REST
  // representation of SPEC §3): CALNDRO_PUBLIC_BASE_URL, else the local
  // default the mails' links use.
  std::string public_base_url = "http://localhost:9000";
};

// Hands the webhook occurrences the event writes recorded (migration 0014)
// to the notification service, which delivers them: each as a message with
// a stable id ("msg_" and the occurrence's id, its webhook-id header), the
// event rendered as its creator sees it at that version, in the order they
// were written. One relay at a time across the replicas (a transaction
// lock, tried not waited for): every message of one event reaches the
// notification service in order. A round is one transaction: the oldest
// occurrences, their hand-over (idempotent per message id), their deletion;
// a round that fails changes nothing and the next hands them over again
// (but for a message the notification service refuses as invalid: dropped).
class WebhookRelay {
 public:
  enum class Driver { kOwnThread, kCaller };
  WebhookRelay(Database& database, WebhookEndpoints& endpoints, WebhookRelayOptions options,
               Driver driver = Driver::kOwnThread);
  WebhookRelay(const WebhookRelay&) = delete;
  WebhookRelay& operator=(const WebhookRelay&) = delete;

  // Hands over the oldest batch; how many, or why not.
  absl::StatusOr<int> relay_once();

 private:
  // Queues `request` with the notification service. A batch it refuses as
  // invalid goes again one message at a time, and a message refused alone
  // is dropped (logged as an error): it could never be delivered, and it
  // would hold back every later one.
  absl::Status hand_over(const calndro::notify::v1::QueueWebhookMessagesRequest& request);

  Database& database_;
  WebhookEndpoints& endpoints_;
  const WebhookRelayOptions options_;
  std::optional<BackgroundRounds> rounds_;  // last: stopped and joined first
};

// The JSON body of a webhook message (SPEC §11): {"type", "timestamp",
// "version", "data"}, data the event as `event`'s creator sees it (URLs on
// `base`), or {"id": ID} for event.deleted.
std::string webhook_message_body(const WebhookOccurrence& occurrence, const EventRecord& event,
                                 const std::string& base);

}  // namespace calndro::events
