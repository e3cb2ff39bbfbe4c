#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <thread>

#include "common/clock.h"
#include "events/stores.h"

namespace calndro::events {

// Deletes API keys that expired more than `retention` ago, at start and
// every `interval` after, until destroyed. Every replica runs it: the DELETE
// is idempotent and cheap (an index on expires_at).
class ApiTokenPurge {
 public:
  ApiTokenPurge(Database& database, const Clock& clock, std::chrono::hours retention,
                std::chrono::seconds interval);
  ApiTokenPurge(const ApiTokenPurge&) = delete;
  ApiTokenPurge& operator=(const ApiTokenPurge&) = delete;

 private:
  void loop(std::stop_token stop);
  void purge_once();

  Database& database_;
  const Clock& clock_;
  const std::chrono::hours retention_;
  const std::chrono::seconds interval_;
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::jthread thread_;  // last: stopped and joined first
};

}  // namespace calndro::events
