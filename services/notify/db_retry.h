#pragma once

#include <chrono>

#include "common/db/db_pool.h"

namespace calndro::notify {

// The retry policy of the notification RPCs (PgDatabase's kRetryWhileFast).
// DbPool::run replaces a connection that broke while idle and tries once
// more. After a database restart (or when its backends were terminated)
// *every* idle connection in the pool is broken, and the second try can get
// another stale one. Stale connections fail at once, so this retries while
// failures come fast: up to pool size + 1 tries within a short budget. A
// database that is really down still answers UNAVAILABLE quickly.
//
// Only for work that may run again from the start: a failed try committed
// nothing (the RPCs; QueueNotifications is idempotent besides). It lives
// here because only these RPCs use it: the dispatcher and the purge keep
// DbPool::run, as their loops try again on their own schedule, and a
// dispatch tried again after SMTP accepted its mail would send it again.
template <typename Work>
auto run_with_fresh_connections(DbPool& pool, Work&& work) -> decltype(pool.run(work)) {
  constexpr auto kBudget = std::chrono::seconds(2);
  const auto start = std::chrono::steady_clock::now();
  for (int attempt = 0;; ++attempt) {
    try {
      return pool.run(work);
    } catch (const DatabaseUnavailable&) {
      if (attempt >= pool.size() || std::chrono::steady_clock::now() - start > kBudget) {
        throw;
      }
    }
  }
}

}  // namespace calndro::notify
