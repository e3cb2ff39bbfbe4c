#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/crypto/crypto.h"
#include "common/text/clock.h"
#include "notify/stores.h"
#include "notify/webhook_address.h"
#include "notify/webhook_crypto.h"
#include "notify/webhook_sender.h"
#include "notify/webhook_store.h"

// Delivers the webhook outbox (SPEC §11, docs/WEBHOOKS.md). Each message
// takes a claim (a lease, one statement), the POST with no database
// connection held, and one statement recording the attempt and what
// becomes of the message. Before every attempt the URL's host is looked up
// again and checked (webhook_address.h); a refused address is an attempt
// with its error, and nothing is connected to. The lease (longer than a
// lookup and a 5 s POST) keeps other workers and replicas away meanwhile;
// a worker that dies leaves the message to the next claim once its lease
// ends: at least once.
namespace calndro::notify {

// The wait after the `failed`-th failed attempt (1 = the first attempt
// failed): `first`, then 30 s, 2 min, 10 min, 30 min, 1 h, then 3 h each.
std::chrono::milliseconds webhook_retry_delay(int failed, std::chrono::milliseconds first);
// When to try again after the `failed`-th failure at `now`; nullopt once
// that would fall more than 24 hours after the occurrence (the message has
// failed for good).
std::optional<Instant> next_webhook_attempt(int failed, Instant occurred_at, Instant now,
                                            std::chrono::milliseconds first);

struct WebhookDispatcherOptions {
  int workers = 4;
  std::chrono::milliseconds poll{250};
  std::chrono::milliseconds first_retry{5000};
  // Longer than a lookup and a POST can take.
  std::chrono::milliseconds lease{std::chrono::seconds(60)};
  // The replica's name in its leases (CALNDRO_REPLICA_ID or host:port).
  std::string owner = "notify";
  AddressAllowList allow;
};

// What the dispatcher needs, wired by main.cc (fakes in tests).
struct WebhookDelivery {
  Database& database;
  WebhookStore& store;
  WebhookPoster& poster;
  Resolver& resolver;
  const SecretBox& box;
  const Clock& clock;
  RandomSource& random;
};

class WebhookDispatcher {
 public:
  WebhookDispatcher(WebhookDelivery delivery, WebhookDispatcherOptions options);
  ~WebhookDispatcher();
  WebhookDispatcher(const WebhookDispatcher&) = delete;
  WebhookDispatcher& operator=(const WebhookDispatcher&) = delete;

  void start();
  // Lets each worker finish the message in hand, then joins them.
  void stop();
  // Messages were queued: look now rather than at the next poll.
  void wake();
  // Attempts at most one due message; true when there was one.
  bool deliver_one();

 private:
  WebhookAnswer attempt(const ClaimedWebhookMessage& claimed);
  WebhookAttemptOutcome outcome_of(const ClaimedWebhookMessage& claimed, const WebhookAnswer& answer) const;
  std::string new_lease_owner();
  void run_worker();

  WebhookDelivery delivery_;
  const WebhookDispatcherOptions options_;
  std::mutex mutex_;
  std::condition_variable signal_;
  bool stopping_ = false;
  std::uint64_t wakeups_ = 0;
  std::vector<std::thread> workers_;
};

}  // namespace calndro::notify
