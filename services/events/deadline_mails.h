#pragma once

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "common/crypto/crypto.h"
#include "common/text/clock.h"
#include "events/background_rounds.h"
#include "events/stores.h"

namespace calndro::events {

struct DeadlineMailOptions {
  // How often the job looks for due deadline mails
  // (CALNDRO_DEADLINE_MAIL_POLL_MS): SPEC §9 wants each mail on its way
  // within 10 seconds of its time.
  std::chrono::milliseconds poll{2000};
  // Events settled per round (one transaction); a full round is followed
  // at once by the next.
  int batch = 20;
  // SPEC §7's hourly limit, which the deadline mails count against
  // (EventServiceOptions::mails_per_hour).
  int mails_per_hour = 100;
};

// The reminders and summaries of SPEC §9. Every replica runs one; each
// round is one transaction that locks the due events (skipping those
// another replica or a request holds), and for each queues the mails in
// the notify outbox (pending_notifications), logs one NOTIFY entry per
// recipient and marks the mails settled for the event's deadline: they
// commit together, so each goes out exactly once, whatever restarts or
// replicas. The relay (outbox_relay.h) hands them to the notification
// service, which mints the token of each mail's link.
//
// The mails count against the creator's hourly budget for the event, as if
// the creator had sent them (a creator who keeps moving the deadline keeps
// re-arming reminders): when they would pass it, the event is left due and
// tried again each round until the budget allows them.
class DeadlineMails {
 public:
  // Who calls mail_once(): the job's own thread, or the caller (tests).
  enum class Driver { kOwnThread, kCaller };
  // `queued` is called after a round that queued mail (wakes the relay).
  DeadlineMails(Database& database, const Clock& clock, RandomSource& random, DeadlineMailOptions options,
                std::function<void()> queued, Driver driver = Driver::kOwnThread);
  DeadlineMails(const DeadlineMails&) = delete;
  DeadlineMails& operator=(const DeadlineMails&) = delete;

  // One round: settles the deadline mails due now; returns how many events
  // it settled, or the database's refusal (the loop logs it and tries again
  // on its next tick).
  absl::StatusOr<int> mail_once();

 private:
  // What settling one event came to.
  enum class Outcome { kSettled, kDeferred };
  struct Round {
    int settled = 0;
    // What each event's mails were, for the log once committed.
    std::vector<nlohmann::json> queued;
  };

  Outcome settle(Repositories& stores, const EventRecord& event, Instant now, Round& round);
  void queue_reminders(Repositories& stores, const EventRecord& event,
                       const std::vector<std::string>& parties, Instant now);
  void queue_summary(Repositories& stores, const EventRecord& event, Instant now);

  Database& database_;
  const Clock& clock_;
  RandomSource& random_;
  const DeadlineMailOptions options_;
  const std::function<void()> queued_;
  std::optional<BackgroundRounds> rounds_;  // last: stopped and joined first
};

}  // namespace calndro::events
