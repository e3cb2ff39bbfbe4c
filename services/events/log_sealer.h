#pragma once

#include <chrono>
#include <functional>

#include "common/audit/log_signing_key.h"
#include "common/text/clock.h"
#include "events/background_rounds.h"
#include "events/stores.h"

namespace calndro::events {

struct LogSealerOptions {
  // SPEC §10: an entry is sealed within 2 seconds of its commit; a round
  // every `pause` keeps that with room for the round itself.
  std::chrono::milliseconds pause{250};
  int events_per_round = 1024;
  int entries_per_round = 4096;
};

// Seals the audit log (SPEC §10) off the request's path: every round takes
// the entries committed without seq, links each event's into its chain
// after the event's head, and moves and signs the head, all in one
// transaction under the lock of the event's head row. Any number of
// replicas run it: a head another holds is skipped this round, so each
// event has exactly one chain; a crash mid-round rolls the round back.
class LogSealer {
 public:
  // `sealed` hears the delay from each entry's commit time (`when`) to its
  // sealing (the seal lag metric).
  using SealedHook = std::function<void(Micros lag)>;

  LogSealer(Database& database, const Clock& clock, const audit::LogSigningKey& key, LogSealerOptions options,
            SealedHook sealed = {});
  LogSealer(const LogSealer&) = delete;
  LogSealer& operator=(const LogSealer&) = delete;

 private:
  struct Round {
    int sealed = 0;
    // It took as many events or entries as a round may: more may wait.
    bool full = false;
  };
  // One round: the due events' heads locked, their entries sealed.
  absl::StatusOr<Round> seal_round();

  // Extends the locked chains with `entries` and signs the heads moved;
  // the lag of each entry sealed.
  std::vector<Micros> link(Repositories& stores, std::vector<ChainTip> tips,
                           const std::vector<UnsealedEntry>& entries);

  Database& database_;
  const Clock& clock_;
  const audit::LogSigningKey& key_;
  const LogSealerOptions options_;
  const SealedHook sealed_;
  BackgroundRounds rounds_;  // last: stopped and joined first
};

}  // namespace calndro::events
