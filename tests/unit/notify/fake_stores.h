#pragma once

#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/db/db_pool.h"
#include "common/text/clock.h"
#include "notify/smtp_mailer.h"
#include "notify/stores.h"

// In-memory stand-ins for the notification service's stores, for unit tests
// of the logic above them. They keep what the tables keep and follow the
// SQL's rules (due times, states, newest-first lists) on the test's clock;
// they model no concurrency (the tests run one call at a time) and no
// rollback (work that throws here leaves its changes). The PostgreSQL stores
// themselves are the integration tests' business.
namespace calndro::notify::testing {

class ManualClock final : public Clock {
 public:
  Instant now() const override { return now_; }
  void advance(Micros by) { now_ += by; }

 private:
  Instant now_ = Instant(Micros(1767225600000000));  // 2026-01-01T00:00:00Z
};

class FakeTransaction final : public Transaction {};

struct FakeMail {
  OutgoingMail mail;  // what claim_next hands out (attempts, content, ...)
  MailState state = MailState::kQueued;
  std::string last_error;
  std::optional<Instant> sent_at;
  Instant next_attempt_at;
  std::optional<std::int64_t> token_id;
  Claim lease;                         // the last claim (kept after its mark, as the table does)
  std::optional<Instant> lease_until;  // nullopt: no lease
};

struct FakeRequest {
  std::int64_t event_id = 0;
  std::string content_hash;
  Instant created_at;
};

class FakeStores final : public Database, public Outbox, public TokenStore {
 public:
  explicit FakeStores(const Clock& clock) : clock_(clock) {}
  Stores stores() { return {*this, *this, *this}; }

  std::map<std::int64_t, FakeMail> mails;
  std::map<std::string, FakeRequest> requests;
  std::map<std::int64_t, NewToken> tokens;
  int transactions = 0;      // opened, of any kind
  bool unavailable = false;  // every transaction throws DatabaseUnavailable
  std::set<int> failing;     // these transactions (1 = the first opened) throw DatabaseUnavailable
  std::set<int> in_doubt;    // these do their work, then throw DatabaseUnavailable (an answerless COMMIT)

  // --- Database
  std::vector<Atomicity> runs;  // how each unit of work asked to commit
  // Not OK: every unit of work answers it without doing its work (a call
  // its caller gave up).
  absl::Status refusal = absl::OkStatus();
  absl::Status run(const CallContext&, Atomicity atomicity, Work work) override {
    runs.push_back(atomicity);
    if (!refusal.ok()) {
      return refusal;
    }
    return run_work(work);
  }

  // --- Outbox
  bool insert_request(Transaction&, const std::string& request_id, std::int64_t event_id,
                      const std::string& content_hash) override {
    return requests.emplace(request_id, FakeRequest{event_id, content_hash, clock_.now()}).second;
  }
  std::optional<std::string> request_content_hash(Transaction&, const std::string& request_id) override {
    const auto found = requests.find(request_id);
    if (found == requests.end()) {
      return std::nullopt;
    }
    return found->second.content_hash;
  }
  std::vector<QueuedMail> queued_for_request(Transaction&, const std::string& request_id) override {
    std::vector<QueuedMail> out;
    for (const auto& [id, mail] : mails) {
      if (mail.mail.request_id == request_id) {
        out.push_back({id, mail.mail.recipient});
      }
    }
    return out;
  }
  std::int64_t enqueue(Transaction&, const NewMail& queued) override {
    const std::int64_t id = next_mail_id_++;
    FakeMail& mail = mails[id];
    mail.mail = {id,
                 queued.request_id,
                 queued.content.event_id,
                 queued.recipient,
                 queued.sender,
                 queued.subject,
                 queued.content,
                 "",
                 0,
                 clock_.now()};
    mail.next_attempt_at = clock_.now();
    return id;
  }
  std::optional<OutgoingMail> claim_next(Transaction&, const Claim& claim,
                                         std::chrono::milliseconds lease) override {
    for (auto& [id, mail] : mails) {
      if (mail.state == MailState::kQueued && mail.next_attempt_at <= clock_.now() &&
          (!mail.lease_until || *mail.lease_until <= clock_.now())) {
        mail.lease = claim;
        mail.lease_until = clock_.now() + lease;
        return mail.mail;
      }
    }
    return std::nullopt;
  }
  bool mark_sent(Transaction&, std::int64_t id, std::optional<std::int64_t> token_id,
                 const Claim& claim) override {
    if (!held(id, claim)) {
      return false;
    }
    FakeMail& mail = finish(id, MailState::kSent, "");
    mail.sent_at = clock_.now();
    if (token_id) {
      mail.token_id = token_id;
    }
    return true;
  }
  bool mark_retry(Transaction&, std::int64_t id, const std::string& error, std::chrono::milliseconds delay,
                  const Claim& claim) override {
    if (!held(id, claim)) {
      return false;
    }
    FakeMail& mail = mails.at(id);
    ++mail.mail.attempts;
    mail.last_error = error;
    mail.next_attempt_at = clock_.now() + delay;
    mail.lease_until.reset();
    return true;
  }
  bool mark_failed(Transaction&, std::int64_t id, const std::string& error, const Claim& claim) override {
    if (!held(id, claim)) {
      return false;
    }
    finish(id, MailState::kFailed, error);
    return true;
  }
  int release_leases(Transaction&, const std::string& owner) override {
    int released = 0;
    for (auto& [id, mail] : mails) {
      if (mail.state == MailState::kQueued && mail.lease_until && mail.lease.owner == owner) {
        mail.lease_until.reset();
        ++released;
      }
    }
    return released;
  }
  int release_claim(Transaction&, const Claim& claim) override {
    int released = 0;
    for (auto& [id, mail] : mails) {
      if (mail.state == MailState::kQueued && mail.lease_until && mail.lease.owner == claim.owner &&
          mail.lease.number == claim.number) {
        mail.lease_until.reset();
        ++released;
      }
    }
    return released;
  }
  std::int64_t depth(Transaction&) override {
    return std::count_if(mails.begin(), mails.end(),
                         [](const auto& entry) { return entry.second.state == MailState::kQueued; });
  }
  std::vector<DeliveryRow> list(Transaction&, std::int64_t event_id, std::int64_t before_id,
                                int limit) override {
    std::vector<DeliveryRow> rows;
    for (auto it = mails.rbegin(); it != mails.rend() && static_cast<int>(rows.size()) < limit; ++it) {
      const FakeMail& mail = it->second;
      if ((event_id == 0 || mail.mail.event_id == event_id) && (before_id == 0 || it->first < before_id)) {
        rows.push_back({it->first, mail.mail.event_id, mail.mail.recipient, mail.mail.subject, mail.state,
                        mail.mail.attempts, mail.last_error, mail.mail.queued_at, mail.sent_at,
                        mail.next_attempt_at});
      }
    }
    return rows;
  }
  // Retention is tested against PostgreSQL only (notify_service_test).
  int purge_finished(Transaction&, int, int) override { return 0; }
  int purge_requests(Transaction&, int, int) override { return 0; }

  // --- TokenStore
  std::int64_t insert(Transaction&, const NewToken& token) override {
    const std::int64_t id = next_token_id_++;
    tokens[id] = token;
    return id;
  }
  void remove(Transaction&, std::int64_t id) override { tokens.erase(id); }
  std::optional<TokenRecord> find_by_hash(Transaction&, const std::string& hash) override {
    for (const auto& [id, token] : tokens) {
      if (token.hash == hash) {
        return TokenRecord{id,           token.hash, token.fingerprint, token.event_id, token.party_email,
                           token.expires};
      }
    }
    return std::nullopt;
  }
  int purge_expired(Transaction&, int, int) override { return 0; }

 private:
  absl::Status run_work(Work work) {
    ++transactions;
    if (unavailable || failing.contains(transactions)) {
      throw DatabaseUnavailable("fake database is down");
    }
    FakeTransaction tx;
    absl::Status status = work(tx);
    if (in_doubt.contains(transactions)) {
      throw DatabaseUnavailable("fake database went away during COMMIT");
    }
    return status;
  }
  bool held(std::int64_t id, const Claim& claim) const {
    const FakeMail& mail = mails.at(id);
    return mail.state == MailState::kQueued && mail.lease.owner == claim.owner &&
           mail.lease.number == claim.number;
  }
  // mark_sent / mark_failed: the stored text goes with the row's queued state.
  FakeMail& finish(std::int64_t id, MailState state, const std::string& error) {
    FakeMail& mail = mails.at(id);
    mail.lease_until.reset();
    mail.state = state;
    ++mail.mail.attempts;
    mail.last_error = error;
    mail.mail.content.reset();
    mail.mail.legacy_body.clear();
    return mail;
  }

  const Clock& clock_;
  std::int64_t next_mail_id_ = 1;
  std::int64_t next_token_id_ = 1;
};

// A mail transport that answers from a script (accepted when it runs out)
// and keeps every envelope it was given.
class FakeMailer final : public Mailer {
 public:
  SendResult send(const Envelope& envelope) override {
    sent.push_back(envelope);
    if (script.empty()) {
      return {true, ""};
    }
    SendResult result = script.front();
    script.pop_front();
    return result;
  }

  std::deque<SendResult> script;
  std::vector<Envelope> sent;
};

}  // namespace calndro::notify::testing
