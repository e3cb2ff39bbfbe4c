#include "events/retention_purge.h"

#include "common/base/log.h"

namespace calndro::events {
namespace {

// Runs one purge statement; a failure (thrown or refused) is logged and the
// purge tried again on the next tick: what it would have deleted stays
// expired until then.
template <typename Purge>
void purge_logged(Database& database, const char* what, Purge purge) {
  try {
    std::int64_t purged = 0;
    const absl::Status status =
        database.run(CallContext::background(), Atomicity::kPerStatement, [&](Repositories& stores) {
          purged = purge(stores);
          return absl::OkStatus();
        });
    if (!status.ok()) {
      log::warn(std::string("purge of ") + what + " refused; next try later",
                {{"code", static_cast<int>(status.code())}, {"error", std::string(status.message())}});
    } else if (purged > 0) {
      log::info(std::string("purged ") + what, {{"count", purged}});
    }
  } catch (const std::exception& error) {
    log::warn(std::string("purge of ") + what + " failed; next try later", {{"error", error.what()}});
  }
}

}  // namespace

RetentionPurge::RetentionPurge(Database& database, const Clock& clock, RetentionPurgeOptions options)
    : database_(database),
      clock_(clock),
      options_(options),
      thread_([this](const std::stop_token& stop) { loop(stop); }) {}

void RetentionPurge::loop(const std::stop_token& stop) {
  std::unique_lock lock(mutex_);
  while (!stop.stop_requested()) {
    lock.unlock();
    purge_once();
    lock.lock();
    wake_.wait_for(lock, stop, options_.interval, [] { return false; });
  }
}

void RetentionPurge::purge_once() {
  const Instant now = clock_.now();
  purge_logged(database_, "expired API tokens", [&](Repositories& stores) {
    return stores.users.purge_api_tokens(now - options_.api_token_retention);
  });
  purge_logged(database_, "idempotency records", [&](Repositories& stores) {
    return stores.idempotency.purge_idempotency_records(now - options_.idempotency_window);
  });
}

}  // namespace calndro::events
