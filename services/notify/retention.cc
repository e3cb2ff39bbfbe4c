#include "notify/retention.h"

#include "common/log.h"
#include "notify/outbox.h"
#include "notify/token_store.h"

namespace calndro::notify {
namespace {

constexpr int kMaxBatches = 10000;

template <typename Batch>
std::int64_t delete_in_batches(DbPool& pool, const RetentionOptions& options, Batch&& batch) {
  std::int64_t total = 0;
  for (int i = 0; i < kMaxBatches; ++i) {
    const int deleted = pool.run([&](pqxx::connection& connection) {
      pqxx::work tx(connection);
      const int n = batch(tx, options.days, options.batch);
      tx.commit();
      return n;
    });
    total += deleted;
    if (deleted < options.batch) {
      break;
    }
  }
  return total;
}

}  // namespace

PurgeCounts purge_expired(DbPool& pool, const RetentionOptions& options) {
  PurgeCounts counts;
  counts.mails = delete_in_batches(pool, options, Outbox::purge_finished);
  counts.tokens = delete_in_batches(pool, options, TokenStore::purge_expired);
  counts.requests = delete_in_batches(pool, options, Outbox::purge_requests);
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
      const PurgeCounts counts = purge_expired(pool_, options_);
      if (counts.mails + counts.tokens + counts.requests > 0) {
        log::info("retention purge", {{"retention_days", options_.days},
                                      {"mails", counts.mails},
                                      {"tokens", counts.tokens},
                                      {"requests", counts.requests}});
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
