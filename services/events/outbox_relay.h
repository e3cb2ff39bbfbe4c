#pragma once

#include <chrono>
#include <optional>

#include "common/text/clock.h"
#include "events/background_rounds.h"
#include "events/notification_client.h"
#include "events/stores.h"

namespace calndro::events {

struct OutboxRelayOptions {
  // How often the relay looks for due notifications without being woken
  // (CALNDRO_NOTIFY_RELAY_POLL_MS): the pace for notifies accepted by other
  // replicas and for retries.
  std::chrono::milliseconds poll{1000};
  // The longest wait between two hand-overs of one notification
  // (CALNDRO_NOTIFY_RELAY_MAX_BACKOFF_SECONDS); the first retry waits a
  // second, each next one twice as long.
  std::chrono::seconds max_backoff{60};
  // How long a claimed notification is left to its relay before another
  // may claim it (longer than one call to the notification service).
  std::chrono::milliseconds lease{30000};
  int batch = 50;
};

// Hands the event service's pending notifications to the notification
// service, with each one's id as request id (QueueNotifications is
// idempotent by it, so a hand-over repeated after a crash queues no second
// mail), and marks them handed over. Every replica runs one: claims skip
// rows another relay holds. No row of an event is locked during the call.
class OutboxRelay {
 public:
  // Who calls relay_once(): the relay's own thread, or the caller (tests).
  enum class Driver { kOwnThread, kCaller };
  OutboxRelay(Database& database, NotificationClient& notifications, const Clock& clock,
              OutboxRelayOptions options, Driver driver = Driver::kOwnThread);
  OutboxRelay(const OutboxRelay&) = delete;
  OutboxRelay& operator=(const OutboxRelay&) = delete;

  // A notify committed in this process: relay now rather than at the next poll.
  void wake();
  // Hands over what is due; returns how many were claimed, or the
  // database's refusal to claim or to record a hand-over (the loop logs it
  // and tries again on its next tick).
  absl::StatusOr<int> relay_once();

 private:
  absl::Status hand_over(const PendingNotification& notification);
  absl::Status settle(const PendingNotification& notification, const absl::Status& status);

  Database& database_;
  NotificationClient& notifications_;
  const Clock& clock_;
  const OutboxRelayOptions options_;
  std::optional<BackgroundRounds> rounds_;  // last: stopped and joined first
};

}  // namespace calndro::events
