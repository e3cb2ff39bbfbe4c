#include "notify/webhook_dispatcher.h"

#include <sodium.h>

#include <array>

#include "common/base/log.h"

namespace calndro::notify {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

// After the first retry (configurable, for tests): SPEC §11's schedule.
constexpr std::array<milliseconds, 5> kLaterRetries = {seconds(30), minutes(2), minutes(10), minutes(30),
                                                       hours(1)};
constexpr milliseconds kSteadyRetry = hours(3);
constexpr auto kRetryWindow = hours(24);

std::int64_t unix_seconds(Instant at) {
  return std::chrono::duration_cast<seconds>(at.time_since_epoch()).count();
}

}  // namespace

milliseconds webhook_retry_delay(int failed, milliseconds first) {
  if (failed <= 1) {
    return first;
  }
  const auto later = static_cast<std::size_t>(failed - 2);
  return later < kLaterRetries.size() ? kLaterRetries[later] : kSteadyRetry;
}

std::optional<Instant> next_webhook_attempt(int failed, Instant occurred_at, Instant now,
                                            milliseconds first) {
  const Instant next = now + std::chrono::duration_cast<Micros>(webhook_retry_delay(failed, first));
  if (next > occurred_at + kRetryWindow) {
    return std::nullopt;
  }
  return next;
}

WebhookDispatcher::WebhookDispatcher(WebhookDelivery delivery, WebhookDispatcherOptions options)
    : delivery_(delivery), options_(std::move(options)) {}

WebhookDispatcher::~WebhookDispatcher() {
  stop();
}

void WebhookDispatcher::start() {
  for (int i = 0; i < options_.workers; ++i) {
    workers_.emplace_back([this] { run_worker(); });
  }
}

void WebhookDispatcher::stop() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  signal_.notify_all();
  for (std::thread& worker : workers_) {
    if (worker.joinable()) {
      worker.join();
    }
  }
  workers_.clear();
}

void WebhookDispatcher::wake() {
  {
    const std::lock_guard lock(mutex_);
    ++wakeups_;
  }
  signal_.notify_all();
}

std::string WebhookDispatcher::new_lease_owner() {
  std::array<unsigned char, 8> nonce{};
  delivery_.random.fill(nonce.data(), nonce.size());
  std::array<char, 2 * nonce.size() + 1> hex{};
  sodium_bin2hex(hex.data(), hex.size(), nonce.data(), nonce.size());
  return options_.owner + "/" + hex.data();
}

WebhookAnswer WebhookDispatcher::attempt(const ClaimedWebhookMessage& claimed) {
  WebhookAnswer refused;
  absl::StatusOr<std::string> secret = delivery_.box.open(claimed.secret_sealed);
  const std::optional<std::string> key = secret.ok() ? webhook_secret_key(*secret) : std::nullopt;
  if (!key) {
    refused.error = "the webhook's secret cannot be read with CALNDRO_WEBHOOK_KEY_FILE's key";
    return refused;
  }
  // Checked again at every attempt, after a lookup of its own: an address
  // that became refused since registration is not connected to.
  absl::StatusOr<Destination> destination =
      check_destination(claimed.url, delivery_.resolver, options_.allow);
  if (!destination.ok()) {
    refused.error = std::string(destination.status().message());
    return refused;
  }
  const WebhookMessageRecord& message = claimed.message;
  const std::int64_t timestamp = unix_seconds(delivery_.clock.now());
  return delivery_.poster.post(
      WebhookPost{.url = claimed.url,
                  .address = destination->address,
                  .port = destination->url.port,
                  .headers = {"Content-Type: application/json", "webhook-id: " + message.message_id,
                              "webhook-timestamp: " + std::to_string(timestamp),
                              "webhook-signature: " +
                                  webhook_signature(*key, message.message_id, timestamp, message.body)},
                  .body = message.body});
}

WebhookAttemptOutcome WebhookDispatcher::outcome_of(const ClaimedWebhookMessage& claimed,
                                                    const WebhookAnswer& answer) const {
  WebhookAttemptOutcome outcome;
  outcome.at = delivery_.clock.now();
  outcome.status = answer.status;
  outcome.error = answer.error;
  outcome.next_attempt_at = outcome.at;
  if (answer.status && *answer.status >= 200 && *answer.status <= 299) {
    outcome.next = WebhookMessageState::kDelivered;
    return outcome;
  }
  const auto next = next_webhook_attempt(claimed.attempts + 1, claimed.message.occurred_at, outcome.at,
                                         options_.first_retry);
  outcome.next = next ? WebhookMessageState::kQueued : WebhookMessageState::kFailed;
  outcome.next_attempt_at = next.value_or(outcome.at);
  return outcome;
}

bool WebhookDispatcher::deliver_one() {
  std::optional<ClaimedWebhookMessage> claimed;
  const std::string owner = new_lease_owner();
  throw_if_refused(
      delivery_.database.run(CallContext::background(), Atomicity::kPerStatement, [&](Transaction& tx) {
        claimed = delivery_.store.claim_message(tx, owner, options_.lease);
        return absl::OkStatus();
      }));
  if (!claimed) {
    return false;
  }
  const WebhookAnswer answer = attempt(*claimed);
  const WebhookAttemptOutcome outcome = outcome_of(*claimed, answer);
  bool recorded = false;
  throw_if_refused(
      delivery_.database.run(CallContext::background(), Atomicity::kPerStatement, [&](Transaction& tx) {
        recorded = delivery_.store.record_attempt(tx, *claimed, outcome);
        return absl::OkStatus();
      }));
  log::info(recorded ? "webhook attempt" : "webhook attempt not recorded: the lease had ended",
            {{"message_id", claimed->message.message_id},
             {"webhook_id", claimed->message.webhook_id},
             {"attempt", claimed->attempts + 1},
             {"status", outcome.status ? nlohmann::json(*outcome.status) : nlohmann::json()},
             {"error", outcome.error ? nlohmann::json(*outcome.error) : nlohmann::json()},
             {"state", outcome.next == WebhookMessageState::kDelivered ? "delivered"
                       : outcome.next == WebhookMessageState::kFailed  ? "failed"
                                                                       : "retry"}});
  return true;
}

void WebhookDispatcher::run_worker() {
  while (true) {
    std::uint64_t seen = 0;
    {
      const std::lock_guard lock(mutex_);
      if (stopping_) {
        return;
      }
      seen = wakeups_;
    }
    bool delivered = false;
    try {
      delivered = deliver_one();
    } catch (const std::exception& error) {
      log::warn("webhook delivery round failed; next try later", {{"error", error.what()}});
    }
    if (delivered) {
      continue;
    }
    std::unique_lock lock(mutex_);
    signal_.wait_for(lock, options_.poll, [&] { return stopping_ || wakeups_ != seen; });
  }
}

}  // namespace calndro::notify
