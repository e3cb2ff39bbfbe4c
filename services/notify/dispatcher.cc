#include "notify/dispatcher.h"

#include <algorithm>
#include <cmath>

#include "common/log.h"
#include "notify/outbox.h"
#include "notify/token_store.h"

namespace calndro::notify {

std::chrono::milliseconds backoff_delay(int failed_attempts, const RetryPolicy& policy, double unit) {
  const int exponent = std::clamp(failed_attempts - 1, 0, 30);
  const double raw = std::min(static_cast<double>(policy.base.count()) * std::ldexp(1.0, exponent),
                              static_cast<double>(policy.cap.count()));
  const double jittered = raw / 2.0 + raw / 2.0 * std::clamp(unit, 0.0, 1.0);
  return std::chrono::milliseconds(static_cast<long long>(jittered));
}

Dispatcher::Dispatcher(DbPool& pool, Mailer& mailer, RandomSource& random, const Clock& clock,
                       MailSettings mail, DispatcherOptions options)
    : pool_(pool),
      mailer_(mailer),
      random_(random),
      clock_(clock),
      mail_(std::move(mail)),
      options_(options) {}

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

Dispatcher::MailText Dispatcher::mail_text(OutgoingMail& mail) {
  MailText text;
  if (!mail.content) {
    text.body = std::move(mail.legacy_body);  // queued by the previous version: its token row exists
    return text;
  }
  const MintedToken token = mint_token(random_);
  const Instant expires = clock_.now() + std::chrono::days(options_.token_days);
  // Committed on its own, before the mail leaves: the link must work the
  // moment the mail arrives, not only after the dispatcher's transaction
  // commits. A token whose mail then fails is deleted in that transaction;
  // one left by a crash in between was never received by anyone and is
  // purged once expired.
  text.token_id = pool_.run([&](pqxx::connection& own) {
    pqxx::work token_tx(own);
    const std::int64_t id =
        TokenStore::insert(token_tx, token, mail.event_id, mail.recipient, expires, mail.request_id);
    token_tx.commit();
    return id;
  });
  text.token_fingerprint = token.fingerprint;
  text.body = compose_mail(mail_, *mail.content, token.token, expires).body;
  return text;
}

bool Dispatcher::dispatch_one() {
  return pool_.run([this](pqxx::connection& connection) {
    pqxx::work tx(connection);
    std::optional<OutgoingMail> mail = Outbox::claim_next(tx);
    if (!mail) {
      tx.commit();
      return false;
    }
    std::string error;
    std::optional<Mailbox> from = parse_mailbox(mail->sender, error);
    if (!from || (!mail->content && mail->legacy_body.empty())) {
      // Cannot happen for rows this service wrote; do not retry garbage.
      const char* reason =
          !from ? "stored sender is not a valid address" : "stored mail content is unreadable";
      Outbox::mark_failed(tx, mail->id, reason);
      tx.commit();
      log::error("mail cannot be sent", {{"mail_id", mail->id}, {"error", reason}});
      return true;
    }
    MailText text = mail_text(*mail);
    WireMail wire;
    wire.from = *from;
    wire.sender = mail_.default_from;
    wire.to = mail->recipient;
    wire.subject = mail->subject;
    wire.body = std::move(text.body);
    wire.date = mail->queued_at;
    const std::string& address = mail_.default_from.address;
    wire.message_id = message_id(mail->id, mail->queued_at, address.substr(address.rfind('@') + 1));

    const SendResult result =
        mailer_.send({mail_.default_from.address, mail->recipient, render_message(wire)});
    const int attempts = mail->attempts + 1;
    if (result.accepted) {
      Outbox::mark_sent(tx, mail->id, text.token_id);
      tx.commit();
      log::info("mail sent", {{"mail_id", mail->id},
                              {"idempotency_key", mail->request_id},
                              {"attempts", attempts},
                              {"token_fingerprint", text.token_fingerprint}});
      report(DeliveryOutcome::Sent);
      return true;
    }
    if (text.token_id) {
      // Nobody received this token: it must not stay behind (a retry mints a new one).
      TokenStore::remove(tx, *text.token_id);
    }
    if (attempts >= options_.retry.max_attempts) {
      Outbox::mark_failed(tx, mail->id, result.error);
      tx.commit();
      log::error("mail given up", {{"mail_id", mail->id},
                                   {"idempotency_key", mail->request_id},
                                   {"attempts", attempts},
                                   {"error", result.error}});
      report(DeliveryOutcome::GaveUp);
    } else {
      const auto delay = backoff_delay(attempts, options_.retry, random_unit());
      Outbox::mark_retry(tx, mail->id, result.error, delay);
      tx.commit();
      log::warn("mail not sent, will retry", {{"mail_id", mail->id},
                                              {"idempotency_key", mail->request_id},
                                              {"attempts", attempts},
                                              {"retry_in_ms", delay.count()},
                                              {"error", result.error}});
      report(DeliveryOutcome::Retry);
    }
    return true;
  });
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
