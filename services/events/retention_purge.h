#pragma once

#include <chrono>

#include "common/text/clock.h"
#include "events/background_rounds.h"
#include "events/stores.h"

namespace calndro::events {

struct RetentionPurgeOptions {
  // API keys are deleted this long after they expired (CALNDRO_RETENTION_DAYS).
  std::chrono::hours api_token_retention{24 * 30};
  // Idempotency records are deleted once this old: past it they are never
  // replayed (EventServiceOptions::idempotency_window).
  std::chrono::seconds idempotency_window = std::chrono::hours(24);
  std::chrono::seconds interval{3600};
};

// The event service's periodic purge: expired API keys and idempotency
// records past their window, at start and every `interval` after, until
// destroyed. Every replica runs it: each DELETE is idempotent and cheap (an
// index on the time it compares).
class RetentionPurge {
 public:
  RetentionPurge(Database& database, const Clock& clock, RetentionPurgeOptions options);
  RetentionPurge(const RetentionPurge&) = delete;
  RetentionPurge& operator=(const RetentionPurge&) = delete;

 private:
  void purge_once();

  Database& database_;
  const Clock& clock_;
  const RetentionPurgeOptions options_;
  BackgroundRounds rounds_;  // last: stopped and joined first
};

}  // namespace calndro::events
