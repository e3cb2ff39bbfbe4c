#include "events/api_token_purge.h"

#include "common/log.h"

namespace calndro::events {

ApiTokenPurge::ApiTokenPurge(Database& database, const Clock& clock, std::chrono::hours retention,
                             std::chrono::seconds interval)
    : database_(database),
      clock_(clock),
      retention_(retention),
      interval_(interval),
      thread_([this](std::stop_token stop) { loop(stop); }) {}

void ApiTokenPurge::loop(std::stop_token stop) {
  std::unique_lock lock(mutex_);
  while (!stop.stop_requested()) {
    lock.unlock();
    purge_once();
    lock.lock();
    wake_.wait_for(lock, stop, interval_, [] { return false; });
  }
}

void ApiTokenPurge::purge_once() {
  try {
    std::int64_t purged = 0;
    (void)database_.run(Atomicity::kPerStatement, [&](Repositories& stores) {
      purged = stores.users.purge_api_tokens(clock_.now() - retention_);
      return absl::OkStatus();
    });
    if (purged > 0) {
      log::info("purged expired API tokens", {{"count", purged}});
    }
  } catch (const std::exception& error) {
    log::warn("API token purge failed; next try later", {{"error", error.what()}});
  }
}

}  // namespace calndro::events
