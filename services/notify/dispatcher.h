#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/crypto/crypto.h"
#include "common/text/clock.h"
#include "notify/mail_composer.h"
#include "notify/smtp_mailer.h"
#include "notify/stores.h"

// Delivers the outbox over SMTP in the background.
//
// Each mail takes two short transactions with the SMTP transaction between
// them, and no database connection is held while the SMTP server talks:
//  1. claim: lease the oldest due row to this claim (lease_until, database
//     clock), mint its token and write only the token's hash; commit. The raw
//     token lives only in this process's memory and in the mail.
//  2. send it; compose the text with the link in memory.
//  3. record the outcome: mark it sent, or delete the token again (nobody
//     received it; a retry mints a new one) and schedule the retry or give
//     up; the mark ends the lease.
// The lease, not a row lock held across the SMTP call, is what keeps every
// other dispatcher away from the mail, and it survives the database going
// away: when the SMTP server has accepted a mail and the mark cannot be
// written (database restarting, connection lost, COMMIT in doubt), the
// worker keeps the outcome and writes it again with back-off, doing nothing
// else meanwhile, until it lands (or the process stops). Nobody claims the
// mail in between while the lease lasts, so across a database restart each
// mail is sent exactly once. The lease is longer than an SMTP transaction can
// take (both SMTP timeouts plus 30 s); a database down for longer than what
// is left of it lets another claim take the mail when it is back, and the
// late mark then changes nothing (logged): sent twice, never lost.
//
// A dispatcher process that dies (kill -9) leaves its leases behind: the
// replica (CALNDRO_REPLICA_ID, hostname and port by default) ends its own
// leases when it starts again and sends those mails at once; a replica that
// never comes back leaves them to the others when the leases run out. A
// claim whose COMMIT was in doubt (the database went away while committing
// it) may hold its mail although the worker never got it: the dispatcher
// ends that one claim's lease before its next claim, so the mail does not
// wait for the lease to run out. If a replica died between the SMTP server's acceptance and the mark, the
// mail goes out again (at-least-once across exactly that crash) with the same Message-ID, by which a receiver
// can tell the copy.
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
  // This replica's name in the leases it takes: unique among the running
  // replicas, the same when one starts again.
  std::string owner = "notify";
  // How long a claim keeps every other dispatcher away from its mail: longer
  // than an SMTP transaction can take.
  std::chrono::milliseconds lease{std::chrono::seconds(100)};
  // First pause before writing an outcome again after the database failed
  // it; doubled up to 2 s.
  std::chrono::milliseconds record_retry_base{100};
};

class Dispatcher {
 public:
  // `stores.database` opens each mail's claim and, after the SMTP
  // transaction, the one that records its outcome.
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
  // DatabaseUnavailable when the database cannot be reached before the mail
  // is sent; once it is sent, waits for the database rather than throw.
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
  // A claimed mail, ready to go out.
  struct Sending {
    OutgoingMail mail;
    Mailbox from;
    MailText text;
  };
  void release_own_leases();
  void end_claims_in_doubt();
  std::optional<Attempt> claim(const Claim& claim, std::optional<Sending>& sending);
  MailText mail_text(Transaction& tx, OutgoingMail& mail);
  void send(Sending& sending, Attempt& attempt);
  bool write_outcome(Transaction& tx, const Sending& sending, const Claim& claim, const Attempt& attempt);
  void record(const Sending& sending, const Claim& claim, const Attempt& attempt);
  bool pause_unless_stopping(std::chrono::milliseconds pause);
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
  std::once_flag leases_released_;
  std::vector<Claim> claims_in_doubt_;  // under mutex_
};

}  // namespace calndro::notify
