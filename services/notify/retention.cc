#include "notify/retention.h"

#include "common/base/log.h"

namespace calndro::notify {
namespace {

constexpr int kMaxBatches = 10000;

// `batch(tx, days, limit)` deletes at most `limit` rows and says how many.
std::int64_t delete_in_batches(Database& database, const RetentionOptions& options,
                               absl::FunctionRef<int(Transaction&, int, int)> batch) {
  std::int64_t total = 0;
  for (int i = 0; i < kMaxBatches; ++i) {
    int deleted = 0;
    throw_if_refused(database.run(CallContext::background(), Atomicity::kTransaction, [&](Transaction& tx) {
      deleted = batch(tx, options.days, options.batch);
      return absl::OkStatus();
    }));
    total += deleted;
    if (deleted < options.batch) {
      break;
    }
  }
  return total;
}

}  // namespace

PurgeCounts purge_expired(const Stores& stores, const RetentionOptions& options, WebhookStore* webhooks) {
  PurgeCounts counts;
  counts.mails = delete_in_batches(stores.database, options, [&](Transaction& tx, int days, int batch) {
    return stores.outbox.purge_finished(tx, days, batch);
  });
  counts.tokens = delete_in_batches(stores.database, options, [&](Transaction& tx, int days, int batch) {
    return stores.tokens.purge_expired(tx, days, batch);
  });
  counts.requests = delete_in_batches(stores.database, options, [&](Transaction& tx, int days, int batch) {
    return stores.outbox.purge_requests(tx, days, batch);
  });
  if (webhooks != nullptr) {
    counts.webhook_messages = delete_in_batches(
        stores.database, options,
        [&](Transaction& tx, int days, int batch) { return webhooks->purge_finished(tx, days, batch); });
  }
  return counts;
}

RetentionJob::~RetentionJob() {
  stop();
}

void RetentionJob::start() {
  if (options_.interval.count() <= 0) {
    log::info("retention purge job off (CALNDRO_PURGE_INTERVAL_SECONDS=0)");
    return;
  }
  std::lock_guard lock(mutex_);
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void RetentionJob::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  signal_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void RetentionJob::run() {
  while (true) {
    try {
      const PurgeCounts counts = purge_expired(stores_, options_, webhooks_);
      if (counts.mails + counts.tokens + counts.requests + counts.webhook_messages > 0) {
        log::info("retention purge", {{"retention_days", options_.days},
                                      {"mails", counts.mails},
                                      {"tokens", counts.tokens},
                                      {"requests", counts.requests},
                                      {"webhook_messages", counts.webhook_messages}});
      }
    } catch (const std::exception& error) {
      // The next pass tries again; nothing is lost by waiting.
      log::warn("retention purge failed", {{"error", error.what()}});
    }
    std::unique_lock lock(mutex_);
    if (signal_.wait_for(lock, options_.interval, [this] { return stopping_; })) {
      return;
    }
  }
}

}  // namespace calndro::notify
