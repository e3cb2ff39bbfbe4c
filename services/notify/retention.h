#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "notify/stores.h"
#include "notify/webhook_store.h"

// Retention (SPEC §7): email tokens expired for more than the retention
// period, sent and given-up mails and idempotency records older than it are
// deleted. Each replica runs the job; batches use SKIP LOCKED, so replicas
// purging at once share the work instead of waiting on each other, and a
// batch is its own short transaction (no long locks, no huge WAL burst).
namespace calndro::notify {

struct RetentionOptions {
  int days = 30;  // CALNDRO_RETENTION_DAYS
  // CALNDRO_PURGE_INTERVAL_SECONDS; zero: no job (purge by other means).
  std::chrono::seconds interval{3600};
  int batch = 1000;
};

struct PurgeCounts {
  std::int64_t mails = 0;
  std::int64_t tokens = 0;
  std::int64_t requests = 0;
  std::int64_t webhook_messages = 0;  // delivered or failed, and attempts, older than `days`
};

// One pass, batch after batch until nothing old is left (bounded: at most
// 10000 batches per kind). Mails first: a request is kept while a mail
// refers to it. Throws DatabaseUnavailable when the database is down.
// `webhooks` (optional): its finished messages and old attempts too.
PurgeCounts purge_expired(const Stores& stores, const RetentionOptions& options,
                          WebhookStore* webhooks = nullptr);

// Runs purge_expired at start and then every `interval`.
class RetentionJob {
 public:
  RetentionJob(Stores stores, RetentionOptions options, WebhookStore* webhooks = nullptr)
      : stores_(stores), options_(options), webhooks_(webhooks) {}
  ~RetentionJob();
  RetentionJob(const RetentionJob&) = delete;
  RetentionJob& operator=(const RetentionJob&) = delete;

  void start();
  void stop();

 private:
  void run();

  Stores stores_;
  const RetentionOptions options_;
  WebhookStore* const webhooks_;
  std::mutex mutex_;
  std::condition_variable signal_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace calndro::notify
