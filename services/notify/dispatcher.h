#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/crypto.h"
#include "notify/mail_composer.h"
#include "notify/smtp_mailer.h"
#include "notify/stores.h"

// Delivers the outbox over SMTP in the background.
//
// Each mail is handled in its own transaction: lock the oldest due row
// (FOR UPDATE SKIP LOCKED), mint its token (only the hash is written),
// compose the text with the link, send it, mark it, commit. An SMTP failure
// deletes the token again in that transaction, so no token exists for a
// mail nobody received, and a retry mints a fresh one; the token's expiry
// counts from the sending. The raw token lives only in this process's memory
// and in the mail: no table holds it at any time. The row lock, not a
// lease column, keeps two replicas from sending one mail: it needs no
// clock agreement or lease length, and a dispatcher that dies (kill -9)
// drops its connection, so PostgreSQL releases the lock and the mail is
// retried by whoever comes next. The remaining window is inherent to SMTP:
// if the server accepted a mail and the process died (or the database went
// away) before the commit, the mail is sent again: at-least-once across
// that crash, exactly once otherwise. Across that crash the first mail's
// link does not work (its token's hash was never committed); the mail sent
// again carries a working one.
namespace calndro::notify {

struct RetryPolicy {
  std::chrono::milliseconds base{2000};
  std::chrono::milliseconds cap{std::chrono::minutes(10)};
  int max_attempts = 20;
};

// Delay before the next try after `failed_attempts` (>= 1) failures:
// base * 2^(failed_attempts - 1), capped, then jittered into [d/2, d]
// with `unit` in [0, 1) so replicas and mails spread out.
std::chrono::milliseconds backoff_delay(int failed_attempts, const RetryPolicy& policy, double unit);

enum class DeliveryOutcome { kSent, kRetry, kGaveUp };

struct DispatcherOptions {
  RetryPolicy retry;
  std::chrono::milliseconds poll_interval{250};
  int workers = 1;
  // A token minted when its mail is sent is valid this long from then.
  int token_days = 5;
  // Told of every delivery attempt's outcome, after its commit (metrics).
  std::function<void(DeliveryOutcome)> on_outcome;
};

class Dispatcher {
 public:
  // `stores.database` opens each mail's transaction and, separately, the
  // one that commits its token before the mail leaves.
  Dispatcher(Stores stores, Mailer& mailer, RandomSource& random, const Clock& clock, MailSettings mail,
             DispatcherOptions options);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  void start();
  // Lets each worker finish the mail in hand, then joins them.
  void stop();
  // A mail was queued: look now rather than at the next poll.
  void wake();

  // Handles at most one due mail; true when there was one. Throws
  // DatabaseUnavailable when the database cannot be reached.
  bool dispatch_one();

 private:
  // What one delivery attempt did: logged and reported after its commit.
  struct Attempt {
    std::int64_t mail_id = 0;
    std::string request_id;
    int attempts = 0;  // this one included
    // nullopt: the stored row cannot be sent at all (given up at once).
    std::optional<DeliveryOutcome> outcome;
    std::string error;
    std::string token_fingerprint;
    std::chrono::milliseconds retry_in{0};
  };
  // What goes out for one mail: its body (and calendar part) and, for mails
  // queued without a token, the token minted for it now (none for a mail
  // without a link).
  struct MailText {
    std::string body;
    std::string calendar;  // the text/calendar part; empty: none
    std::optional<std::int64_t> token_id;
    std::string token_fingerprint;
  };
  MailText mail_text(OutgoingMail& mail);
  Attempt deliver(Transaction& tx, OutgoingMail& mail);
  Envelope envelope(const OutgoingMail& mail, const Mailbox& from, MailText text) const;
  void announce(const Attempt& attempt) const;
  void run_worker(int index);
  double random_unit();

  Stores stores_;
  Mailer& mailer_;
  RandomSource& random_;
  const Clock& clock_;
  const MailSettings mail_;
  const DispatcherOptions options_;
  std::mutex mutex_;
  std::condition_variable signal_;
  bool stopping_ = false;
  std::uint64_t wakeups_ = 0;
  std::vector<std::thread> workers_;
};

}  // namespace calndro::notify
