#include "notify/dispatcher.h"

#include <algorithm>
#include <cmath>

#include "common/base/log.h"
#include "common/db/db_pool.h"
#include "notify/token_store.h"

namespace calndro::notify {

std::chrono::milliseconds backoff_delay(int failed_attempts, const RetryPolicy& policy, double unit) {
  const int exponent = std::clamp(failed_attempts - 1, 0, 30);
  const double raw = std::min(static_cast<double>(policy.base.count()) * std::ldexp(1.0, exponent),
                              static_cast<double>(policy.cap.count()));
  const double jittered = raw / 2.0 + raw / 2.0 * std::clamp(unit, 0.0, 1.0);
  return std::chrono::milliseconds(static_cast<long long>(jittered));
}

Dispatcher::Dispatcher(Stores stores, Mailer& mailer, RandomSource& random, const Clock& clock,
                       MailSettings mail, DispatcherOptions options)
    : stores_(stores),
      mailer_(mailer),
      random_(random),
      clock_(clock),
      mail_(std::move(mail)),
      options_(std::move(options)) {}

Dispatcher::~Dispatcher() {
  stop();
}

void Dispatcher::start() {
  std::lock_guard lock(mutex_);
  stopping_ = false;
  for (int i = 0; i < std::max(1, options_.workers); ++i) {
    workers_.emplace_back([this, i] { run_worker(i); });
  }
  log::info("dispatcher started", {{"workers", workers_.size()}});
}

void Dispatcher::stop() {
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    workers.swap(workers_);
  }
  signal_.notify_all();
  for (auto& worker : workers) {
    worker.join();
  }
  if (!workers.empty()) {
    log::info("dispatcher stopped");
  }
}

void Dispatcher::wake() {
  {
    std::lock_guard lock(mutex_);
    ++wakeups_;
  }
  signal_.notify_all();
}

double Dispatcher::random_unit() {
  std::uint32_t value = 0;
  random_.fill(reinterpret_cast<unsigned char*>(&value), sizeof value);
  return static_cast<double>(value) / 4294967296.0;
}

Dispatcher::MailText Dispatcher::mail_text(Transaction& tx, OutgoingMail& mail) {
  MailText text;
  if (!mail.content) {
    text.body = std::move(mail.legacy_body);  // written before migration 0002: its token row exists
    return text;
  }
  if (!has_link(*mail.content)) {
    // No link, so no token: nobody needs access to a deleted event's page.
    text.body = compose_mail(mail_, *mail.content, "", clock_.now()).body;
    text.calendar = compose_calendar(mail_, *mail.content, "", clock_.now());
    return text;
  }
  const MintedToken token = mint_token(random_);
  const NewToken row{token.hash,
                     token.fingerprint,
                     mail.event_id,
                     mail.recipient,
                     clock_.now() + std::chrono::days(options_.token_days),
                     mail.request_id};
  // Committed with the claim, before the mail leaves: the link works the
  // moment the mail arrives. A token whose mail then fails is deleted with
  // the failure's mark; one left by a crash in between was never received
  // by anyone and is purged once expired.
  text.token_id = stores_.tokens.insert(tx, row);
  text.token_fingerprint = token.fingerprint;
  text.body = compose_mail(mail_, *mail.content, token.token, row.expires).body;
  if (mail.content->calendar) {
    // DTSTAMP: when this invitation or cancellation is written.
    text.calendar = compose_calendar(mail_, *mail.content, token.token, clock_.now());
  }
  return text;
}

Envelope Dispatcher::envelope(const OutgoingMail& mail, const Mailbox& from, MailText text) const {
  WireMail wire;
  wire.from = from;
  wire.sender = mail_.default_from;
  wire.to = mail.recipient;
  wire.subject = mail.subject;
  wire.body = std::move(text.body);
  wire.calendar = std::move(text.calendar);
  if (mail.content && mail.content->calendar) {
    wire.calendar_method = mail.content->calendar->method;
  }
  wire.date = mail.queued_at;
  const std::string& address = mail_.default_from.address;
  wire.message_id = message_id(mail.id, mail.queued_at, address.substr(address.rfind('@') + 1));
  return {address, mail.recipient, render_message(wire)};
}

void Dispatcher::release_own_leases() {
  // Before this process's first claim: its own leases are its predecessor's.
  std::call_once(leases_released_, [this] {
    int released = 0;
    throw_if_refused(
        stores_.database.run(CallContext::background(), Atomicity::kTransaction, [&](Transaction& tx) {
          released = stores_.outbox.release_leases(tx, options_.owner);
          return absl::OkStatus();
        }));
    if (released > 0) {
      log::warn("dispatcher: took back the mails claimed before this replica restarted",
                {{"owner", options_.owner}, {"mails", released}});
    }
  });
}

void Dispatcher::end_claims_in_doubt() {
  std::vector<Claim> claims;
  {
    std::lock_guard lock(mutex_);
    claims.swap(claims_in_doubt_);
  }
  for (std::size_t i = 0; i < claims.size(); ++i) {
    try {
      int released = 0;
      throw_if_refused(
          stores_.database.run(CallContext::background(), Atomicity::kTransaction, [&](Transaction& tx) {
            released = stores_.outbox.release_claim(tx, claims[i]);
            return absl::OkStatus();
          }));
      if (released > 0) {
        log::warn("dispatcher: took back a mail whose claim was in doubt (database gone during COMMIT)",
                  {{"owner", claims[i].owner}, {"mails", released}});
      }
    } catch (...) {
      std::lock_guard lock(mutex_);
      claims_in_doubt_.insert(claims_in_doubt_.end(), claims.begin() + static_cast<std::ptrdiff_t>(i),
                              claims.end());
      throw;
    }
  }
}

std::optional<Dispatcher::Attempt> Dispatcher::claim(const Claim& claim, std::optional<Sending>& sending) {
  std::optional<Attempt> attempt;
  const absl::Status claimed =
      stores_.database.run(CallContext::background(), Atomicity::kTransaction, [&](Transaction& tx) {
        attempt.reset();
        sending.reset();
        std::optional<OutgoingMail> mail = stores_.outbox.claim_next(tx, claim, options_.lease);
        if (!mail) {
          return absl::OkStatus();
        }
        attempt.emplace();
        attempt->mail_id = mail->id;
        attempt->request_id = mail->request_id;
        attempt->attempts = mail->attempts + 1;
        std::string error;
        const std::optional<Mailbox> from = parse_mailbox(mail->sender, error);
        if (!from || (!mail->content && mail->legacy_body.empty())) {
          // Cannot happen for rows this service wrote; do not retry garbage.
          attempt->error =
              !from ? "stored sender is not a valid address" : "stored mail content is unreadable";
          stores_.outbox.mark_failed(tx, mail->id, attempt->error, claim);
          return absl::OkStatus();
        }
        MailText text = mail_text(tx, *mail);
        attempt->token_fingerprint = text.token_fingerprint;
        sending = Sending{std::move(*mail), *from, std::move(text)};
        return absl::OkStatus();
      });
  throw_if_refused(claimed);
  return attempt;
}

void Dispatcher::send(Sending& sending, Attempt& attempt) {
  const SendResult result = mailer_.send(envelope(sending.mail, sending.from, sending.text));
  if (result.accepted) {
    attempt.outcome = DeliveryOutcome::kSent;
    return;
  }
  attempt.error = result.error;
  if (attempt.attempts >= options_.retry.max_attempts) {
    attempt.outcome = DeliveryOutcome::kGaveUp;
  } else {
    attempt.retry_in = backoff_delay(attempt.attempts, options_.retry, random_unit());
    attempt.outcome = DeliveryOutcome::kRetry;
  }
}

bool Dispatcher::write_outcome(Transaction& tx, const Sending& sending, const Claim& claim,
                               const Attempt& attempt) {
  const std::int64_t id = sending.mail.id;
  if (*attempt.outcome == DeliveryOutcome::kSent) {
    return stores_.outbox.mark_sent(tx, id, sending.text.token_id, claim);
  }
  if (sending.text.token_id) {
    // Nobody received this token: it must not stay behind (a retry mints a new one).
    stores_.tokens.remove(tx, *sending.text.token_id);
  }
  if (*attempt.outcome == DeliveryOutcome::kGaveUp) {
    return stores_.outbox.mark_failed(tx, id, attempt.error, claim);
  }
  return stores_.outbox.mark_retry(tx, id, attempt.error, attempt.retry_in, claim);
}

void Dispatcher::record(const Sending& sending, const Claim& claim, const Attempt& attempt) {
  const nlohmann::json fields = {{"mail_id", attempt.mail_id}, {"idempotency_key", attempt.request_id}};
  std::chrono::milliseconds pause = options_.record_retry_base;
  for (int tries = 1;; ++tries) {
    try {
      bool held = false;
      throw_if_refused(
          stores_.database.run(CallContext::background(), Atomicity::kTransaction, [&](Transaction& tx) {
            held = write_outcome(tx, sending, claim, attempt);
            return absl::OkStatus();
          }));
      if (!held) {
        log::error(
            "dispatcher: the mail's lease ran out before its outcome was recorded; another claim has it",
            fields);
      } else if (tries > 1) {
        log::info("dispatcher: mail outcome recorded once the database was back", {{"tries", tries}});
      }
      return;
    } catch (const std::exception& error) {
      // The SMTP server has answered: giving the mail back now would send it twice.
      nlohmann::json failed = fields;
      failed["tries"] = tries;
      failed["error"] = error.what();
      log::warn("dispatcher: cannot record the mail's outcome yet, keeping it", failed);
    }
    if (!pause_unless_stopping(pause)) {
      log::error(
          "dispatcher stopped before the mail's outcome was recorded; it is sent again after its lease",
          fields);
      return;
    }
    pause = std::min(pause * 2, std::chrono::milliseconds(2000));
  }
}

bool Dispatcher::pause_unless_stopping(std::chrono::milliseconds pause) {
  std::unique_lock lock(mutex_);
  return !signal_.wait_for(lock, pause, [this] { return stopping_; });
}

void Dispatcher::announce(const Attempt& attempt) const {
  if (!attempt.outcome) {
    log::error("mail cannot be sent", {{"mail_id", attempt.mail_id}, {"error", attempt.error}});
    return;
  }
  nlohmann::json fields = {
      {"mail_id", attempt.mail_id}, {"idempotency_key", attempt.request_id}, {"attempts", attempt.attempts}};
  switch (*attempt.outcome) {
    case DeliveryOutcome::kSent:
      fields["token_fingerprint"] = attempt.token_fingerprint;
      log::info("mail sent", fields);
      break;
    case DeliveryOutcome::kGaveUp:
      fields["error"] = attempt.error;
      log::error("mail given up", fields);
      break;
    case DeliveryOutcome::kRetry:
      fields["retry_in_ms"] = attempt.retry_in.count();
      fields["error"] = attempt.error;
      log::warn("mail not sent, will retry", fields);
      break;
  }
  if (options_.on_outcome) {
    options_.on_outcome(*attempt.outcome);
  }
}

bool Dispatcher::dispatch_one() {
  release_own_leases();
  end_claims_in_doubt();
  Claim lease{options_.owner, 0};
  random_.fill(reinterpret_cast<unsigned char*>(&lease.number), sizeof lease.number);
  std::optional<Sending> sending;
  std::optional<Attempt> attempt;
  try {
    attempt = claim(lease, sending);
  } catch (...) {
    // Its COMMIT may have gone through: the claim may hold a mail nobody sends.
    std::lock_guard lock(mutex_);
    claims_in_doubt_.push_back(lease);
    throw;
  }
  if (!attempt) {
    return false;
  }
  if (sending) {
    send(*sending, *attempt);
    record(*sending, lease, *attempt);
  }
  announce(*attempt);
  return true;
}

void Dispatcher::run_worker(int index) {
  int failures = 0;
  std::uint64_t seen_wakeups = 0;
  while (true) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) {
        return;
      }
      seen_wakeups = wakeups_;
    }
    bool handled = false;
    std::chrono::milliseconds pause = options_.poll_interval;
    try {
      handled = dispatch_one();
      failures = 0;
    } catch (const DatabaseUnavailable& unavailable) {
      ++failures;
      pause = std::min(std::chrono::milliseconds(250) * (1 << std::min(failures, 5)),
                       std::chrono::milliseconds(5000));
      log::warn("dispatcher: database unavailable", {{"worker", index}, {"error", unavailable.what()}});
    } catch (const std::exception& error) {
      ++failures;
      pause = std::min(std::chrono::milliseconds(250) * (1 << std::min(failures, 5)),
                       std::chrono::milliseconds(5000));
      log::error("dispatcher: unexpected error", {{"worker", index}, {"error", error.what()}});
    }
    if (handled) {
      continue;
    }
    std::unique_lock lock(mutex_);
    signal_.wait_for(lock, pause, [&] { return stopping_ || (failures == 0 && wakeups_ != seen_wakeups); });
  }
}

}  // namespace calndro::notify
