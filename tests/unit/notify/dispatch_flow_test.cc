// The outbox state machine as the dispatcher drives it, against in-memory
// stores: queued -> sent; a failed sending -> queued again after a back-off,
// or failed after the last attempt; an unreadable row -> failed at once; the
// token minted for a mail exists only once the mail was accepted; a claimed
// mail is leased (nobody else sends it) until its mark or the lease's end,
// and a mail the SMTP server accepted is marked once the database is back
// rather than sent again.
#include <gtest/gtest.h>

#include <cstring>
#include <regex>

#include "fake_stores.h"
#include "notify/dispatcher.h"
#include "notify/token_store.h"

namespace calndro::notify {
namespace {

using testing::FakeMailer;
using testing::FakeStores;
using testing::FakeTransaction;
using testing::ManualClock;

// Jitter draws (4 bytes) are all 0x80, so random_unit() is just above 0.5;
// tokens (longer draws) count up, so each one is new.
class ScriptedRandom final : public RandomSource {
 public:
  void fill(unsigned char* out, std::size_t size) override {
    for (std::size_t i = 0; i < size; ++i) {
      out[i] = size == sizeof(std::uint32_t) ? 0x80 : static_cast<unsigned char>(next_++);
    }
  }

 private:
  unsigned next_ = 0;
};

std::string token_in(const std::string& message) {
  std::smatch match;
  if (!std::regex_search(message, match, std::regex("\\?et=([0-9a-f]{40})"))) {
    return "";
  }
  return match[1];
}

class DispatchFlowTest : public ::testing::Test {
 protected:
  DispatchFlowTest() : dispatcher_(fake_.stores(), mailer_, random_, clock_, MailSettings(), options()) {}

  DispatcherOptions options() {
    DispatcherOptions options;
    options.retry = {std::chrono::milliseconds(1000), std::chrono::milliseconds(60000), 3};
    options.token_days = 5;
    options.on_outcome = [this](DeliveryOutcome outcome) { outcomes_.push_back(outcome); };
    options.owner = "replica-a";
    options.lease = std::chrono::seconds(100);
    options.record_retry_base = std::chrono::milliseconds(1);
    return options;
  }

  std::int64_t enqueue(const std::string& sender = "you@here.net") {
    MailRequest content;
    content.event_id = 7;
    content.title = "cybes";
    content.invitation = true;
    FakeTransaction tx;
    return fake_.enqueue(
        tx, {"req-1/event/7", "they@thar.net", sender, "[calndro] Invitation: 'cybes'", content});
  }

  ManualClock clock_;
  FakeStores fake_{clock_};
  FakeMailer mailer_;
  ScriptedRandom random_;
  std::vector<DeliveryOutcome> outcomes_;
  Dispatcher dispatcher_;
};

TEST_F(DispatchFlowTest, QueuedMailIsSentWithAFreshTokenOnce) {
  const std::int64_t id = enqueue();
  EXPECT_TRUE(dispatcher_.dispatch_one());
  const testing::FakeMail& mail = fake_.mails.at(id);
  EXPECT_EQ(mail.state, MailState::kSent);
  EXPECT_EQ(mail.mail.attempts, 1);
  EXPECT_EQ(mail.sent_at, clock_.now());
  EXPECT_FALSE(mail.mail.content.has_value());

  ASSERT_EQ(mailer_.sent.size(), 1u);
  EXPECT_EQ(mailer_.sent[0].rcpt_to, "they@thar.net");
  EXPECT_EQ(mailer_.sent[0].mail_from, "noreply@calndro.localhost");
  const std::string token = token_in(mailer_.sent[0].message);
  ASSERT_FALSE(token.empty()) << mailer_.sent[0].message;
  ASSERT_TRUE(mail.token_id.has_value());
  ASSERT_EQ(fake_.tokens.count(*mail.token_id), 1u);
  const NewToken& stored = fake_.tokens.at(*mail.token_id);
  EXPECT_EQ(stored.hash, token_hash(token));  // the hash only, never the token
  EXPECT_EQ(stored.party_email, "they@thar.net");
  EXPECT_EQ(stored.expires, clock_.now() + std::chrono::days(5));
  EXPECT_EQ(outcomes_, std::vector<DeliveryOutcome>{DeliveryOutcome::kSent});

  EXPECT_FALSE(dispatcher_.dispatch_one());  // nothing is sent twice
  EXPECT_EQ(mailer_.sent.size(), 1u);
}

TEST_F(DispatchFlowTest, FailedSendingIsQueuedAgainAfterABackOffWithoutItsToken) {
  const std::int64_t id = enqueue();
  mailer_.script = {{false, "421 4.3.0 try later"}};
  EXPECT_TRUE(dispatcher_.dispatch_one());
  const testing::FakeMail& mail = fake_.mails.at(id);
  EXPECT_EQ(mail.state, MailState::kQueued);
  EXPECT_EQ(mail.mail.attempts, 1);
  EXPECT_EQ(mail.last_error, "421 4.3.0 try later");
  // First back-off: the base (1 s) jittered into [0.5 s, 1 s] by random_unit() = 0x80808080 / 2^32.
  EXPECT_EQ(mail.next_attempt_at, clock_.now() + std::chrono::milliseconds(750));
  EXPECT_TRUE(fake_.tokens.empty()) << "the unsent mail's token stayed behind";
  EXPECT_EQ(outcomes_, std::vector<DeliveryOutcome>{DeliveryOutcome::kRetry});
  const std::string first_token = token_in(mailer_.sent[0].message);

  EXPECT_FALSE(dispatcher_.dispatch_one()) << "retried before its time";
  clock_.advance(std::chrono::milliseconds(750));
  EXPECT_TRUE(dispatcher_.dispatch_one());
  EXPECT_EQ(mail.state, MailState::kSent);
  EXPECT_EQ(mail.mail.attempts, 2);
  EXPECT_EQ(mail.last_error, "");
  ASSERT_EQ(mailer_.sent.size(), 2u);
  EXPECT_EQ(fake_.tokens.size(), 1u);
  EXPECT_NE(token_in(mailer_.sent[1].message), first_token) << "a retry mints a new token";
  EXPECT_EQ(fake_.tokens.begin()->second.hash, token_hash(token_in(mailer_.sent[1].message)));
}

TEST_F(DispatchFlowTest, BackOffGrowsAndTheLastAttemptFailsTheMail) {
  const std::int64_t id = enqueue();
  mailer_.script = {{false, "first"}, {false, "second"}, {false, "third"}};
  const testing::FakeMail& mail = fake_.mails.at(id);
  ASSERT_TRUE(dispatcher_.dispatch_one());
  clock_.advance(mail.next_attempt_at - clock_.now());
  ASSERT_TRUE(dispatcher_.dispatch_one());
  EXPECT_EQ(mail.next_attempt_at, clock_.now() + std::chrono::milliseconds(1501));  // 2 s, jittered
  clock_.advance(mail.next_attempt_at - clock_.now());
  ASSERT_TRUE(dispatcher_.dispatch_one());  // the third of max_attempts = 3

  EXPECT_EQ(mail.state, MailState::kFailed);
  EXPECT_EQ(mail.mail.attempts, 3);
  EXPECT_EQ(mail.last_error, "third");
  EXPECT_FALSE(mail.mail.content.has_value());
  EXPECT_TRUE(fake_.tokens.empty());
  EXPECT_EQ(outcomes_, (std::vector<DeliveryOutcome>{DeliveryOutcome::kRetry, DeliveryOutcome::kRetry,
                                                     DeliveryOutcome::kGaveUp}));
  clock_.advance(std::chrono::hours(1));
  EXPECT_FALSE(dispatcher_.dispatch_one());
  EXPECT_EQ(mailer_.sent.size(), 3u);
}

TEST_F(DispatchFlowTest, UnsendableRowFailsAtOnceWithoutMailOrToken) {
  const std::int64_t id = enqueue("not an address");
  EXPECT_TRUE(dispatcher_.dispatch_one());
  const testing::FakeMail& mail = fake_.mails.at(id);
  EXPECT_EQ(mail.state, MailState::kFailed);
  EXPECT_EQ(mail.mail.attempts, 1);
  EXPECT_EQ(mail.last_error, "stored sender is not a valid address");
  EXPECT_TRUE(mailer_.sent.empty());
  EXPECT_TRUE(fake_.tokens.empty());
  EXPECT_TRUE(outcomes_.empty());
}

TEST_F(DispatchFlowTest, RowWithAFinishedBodyIsSentAsItIs) {
  const std::int64_t id = enqueue();
  testing::FakeMail& mail = fake_.mails.at(id);
  mail.mail.content.reset();
  mail.mail.legacy_body = "Hello,\n\nOpen http://localhost:9000/7/?et=" + std::string(40, 'c') + "\n";
  EXPECT_TRUE(dispatcher_.dispatch_one());
  EXPECT_EQ(mail.state, MailState::kSent);
  EXPECT_FALSE(mail.token_id.has_value());  // its token row exists already
  EXPECT_TRUE(fake_.tokens.empty());
  ASSERT_EQ(mailer_.sent.size(), 1u);
  EXPECT_EQ(token_in(mailer_.sent[0].message), std::string(40, 'c'));
  EXPECT_TRUE(mail.mail.legacy_body.empty());
}

std::int64_t enqueue_calendar(FakeStores& fake, bool without_link) {
  MailRequest content;
  content.event_id = 7;
  content.title = "cybes";
  CalendarRequest calendar;
  calendar.method = without_link ? icalendar::Method::kCancel : icalendar::Method::kRequest;
  calendar.uid = "event-7@calndro";
  calendar.slot = {Instant(std::chrono::seconds(1667265082)), std::chrono::minutes(10)};
  calendar.organizer = "you@here.net";
  calendar.attendees = {"you@here.net", "they@thar.net"};
  calendar.without_link = without_link;
  content.calendar = calendar;
  FakeTransaction tx;
  return fake.enqueue(tx, {"req-2/event/7", "they@thar.net", "you@here.net", "s", content});
}

TEST_F(DispatchFlowTest, CalendarMailCarriesTheFreshTokenInBothParts) {
  const std::int64_t id = enqueue_calendar(fake_, false);
  EXPECT_TRUE(dispatcher_.dispatch_one());
  ASSERT_EQ(mailer_.sent.size(), 1u);
  const std::string& message = mailer_.sent[0].message;
  const std::string token = token_in(message);
  ASSERT_FALSE(token.empty()) << message;
  EXPECT_NE(message.find("Content-Type: multipart/alternative;"), std::string::npos);
  EXPECT_NE(message.find("Content-Type: text/calendar; charset=UTF-8; method=REQUEST"), std::string::npos);
  const std::size_t calendar = message.find("BEGIN:VCALENDAR");
  ASSERT_NE(calendar, std::string::npos);
  EXPECT_NE(message.find("?et=" + token, calendar), std::string::npos) << "no link in the calendar part";
  EXPECT_NE(message.find("DTSTAMP:20260101T000000Z"), std::string::npos)
      << "DTSTAMP is the dispatcher's clock";
  const testing::FakeMail& mail = fake_.mails.at(id);
  ASSERT_TRUE(mail.token_id.has_value());
  EXPECT_EQ(fake_.tokens.at(*mail.token_id).hash, token_hash(token));
}

TEST_F(DispatchFlowTest, CalendarMailWithoutLinkMintsNoToken) {
  const std::int64_t id = enqueue_calendar(fake_, true);
  EXPECT_TRUE(dispatcher_.dispatch_one());
  ASSERT_EQ(mailer_.sent.size(), 1u);
  EXPECT_EQ(mailer_.sent[0].message.find("?et="), std::string::npos);
  EXPECT_NE(mailer_.sent[0].message.find("method=CANCEL"), std::string::npos);
  EXPECT_TRUE(fake_.tokens.empty());
  EXPECT_EQ(fake_.mails.at(id).state, MailState::kSent);
  EXPECT_FALSE(fake_.mails.at(id).token_id.has_value());
}

TEST_F(DispatchFlowTest, DatabaseDownIsTheCallersToHandle) {
  enqueue();
  fake_.unavailable = true;
  EXPECT_THROW(dispatcher_.dispatch_one(), DatabaseUnavailable);
  EXPECT_TRUE(mailer_.sent.empty());
}

TEST_F(DispatchFlowTest, AcceptedMailIsMarkedOnceTheDatabaseIsBackAndNotSentAgain) {
  const std::int64_t id = enqueue();
  // Transactions: 1 ends the replica's old leases, 2 claims, 3 and 4 (the
  // mark after the SMTP server accepted) meet a database that is down.
  fake_.failing = {3, 4};
  EXPECT_TRUE(dispatcher_.dispatch_one());
  const testing::FakeMail& mail = fake_.mails.at(id);
  EXPECT_EQ(fake_.transactions, 5);
  EXPECT_EQ(mail.state, MailState::kSent);
  EXPECT_EQ(mail.mail.attempts, 1);
  EXPECT_EQ(mail.token_id, std::optional<std::int64_t>(1));
  EXPECT_EQ(fake_.tokens.size(), 1u);  // the link in the mail works
  EXPECT_EQ(outcomes_, std::vector<DeliveryOutcome>{DeliveryOutcome::kSent});
  clock_.advance(std::chrono::hours(1));
  EXPECT_FALSE(dispatcher_.dispatch_one());
  EXPECT_EQ(mailer_.sent.size(), 1u);
}

TEST_F(DispatchFlowTest, MailWhoseClaimWasInDoubtIsSentAtTheNextClaimNotAfterTheLease) {
  const std::int64_t id = enqueue();
  // Transactions: 1 ends the replica's old leases, 2 claims and commits but
  // its answer is lost, 3 finds the database still away.
  fake_.in_doubt = {2};
  fake_.failing = {3};
  EXPECT_THROW(dispatcher_.dispatch_one(), DatabaseUnavailable);
  ASSERT_TRUE(fake_.mails.at(id).lease_until.has_value()) << "the claim committed";
  EXPECT_THROW(dispatcher_.dispatch_one(), DatabaseUnavailable);
  EXPECT_TRUE(dispatcher_.dispatch_one()) << "the in-doubt claim's mail, well within its lease";
  ASSERT_EQ(mailer_.sent.size(), 1u);
  EXPECT_EQ(fake_.mails.at(id).state, MailState::kSent);
  EXPECT_EQ(fake_.mails.at(id).mail.attempts, 1);
  EXPECT_FALSE(dispatcher_.dispatch_one());
  EXPECT_EQ(mailer_.sent.size(), 1u);
}

TEST_F(DispatchFlowTest, LeasedMailWaitsForTheLeaseAndALateMarkChangesNothing) {
  const std::int64_t id = enqueue();
  FakeTransaction tx;
  const Claim other{"replica-b", 99};
  ASSERT_TRUE(fake_.claim_next(tx, other, std::chrono::seconds(100)).has_value());
  EXPECT_FALSE(dispatcher_.dispatch_one()) << "claimed while another replica's lease holds it";
  clock_.advance(std::chrono::seconds(100));
  EXPECT_TRUE(dispatcher_.dispatch_one());
  ASSERT_EQ(mailer_.sent.size(), 1u);
  const testing::FakeMail& mail = fake_.mails.at(id);
  EXPECT_EQ(mail.state, MailState::kSent);
  EXPECT_EQ(mail.lease.owner, "replica-a");
  EXPECT_FALSE(fake_.mark_retry(tx, id, "late", std::chrono::seconds(1), other));
  EXPECT_FALSE(fake_.mark_sent(tx, id, std::nullopt, other));
  EXPECT_EQ(mail.state, MailState::kSent);
  EXPECT_EQ(mail.mail.attempts, 1);
}

TEST_F(DispatchFlowTest, ReplicaStartedAgainTakesBackItsOwnLeasesAtOnce) {
  const std::int64_t mine = enqueue();
  const std::int64_t theirs = enqueue();
  FakeTransaction tx;
  // Claimed by this replica's previous process (killed) and by another replica.
  ASSERT_EQ(fake_.claim_next(tx, {"replica-a", 1}, std::chrono::seconds(100))->id, mine);
  ASSERT_EQ(fake_.claim_next(tx, {"replica-b", 2}, std::chrono::seconds(100))->id, theirs);
  EXPECT_TRUE(dispatcher_.dispatch_one());
  EXPECT_FALSE(dispatcher_.dispatch_one());
  EXPECT_EQ(fake_.mails.at(mine).state, MailState::kSent);
  EXPECT_EQ(fake_.mails.at(theirs).state, MailState::kQueued);
  EXPECT_EQ(mailer_.sent.size(), 1u);
}

}  // namespace
}  // namespace calndro::notify
