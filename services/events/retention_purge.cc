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
      // Each purge statement logs its own refusal (purge_logged): a round
      // always answers 0, and the next comes after `interval`.
      rounds_(BackgroundRounds::Options{.what = "retention purge", .pause = options_.interval, .batch = 1},
              [this]() -> absl::StatusOr<int> {
                purge_once();
                return 0;
              }) {}

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
