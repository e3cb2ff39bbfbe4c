#include "events/outbox_relay.h"

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "fake_clock.h"
#include "fakes.h"

// The relay against in-memory stores and a fake notification service:
// hand-over with the intent's id, retries with backoff, refusals.
namespace calndro::events {
namespace {

class OutboxRelayTest : public ::testing::Test {
 protected:
  void add_pending(const std::string& id) {
    calndro::notify::v1::QueueNotificationsRequest request;
    request.set_request_id(id);
    request.set_event_id(7);
    request.add_recipients("party@here.net");
    PendingNotification pending{id,          7, {"party@here.net"}, "", 0, "trace-" + id, "party@here.net",
                                std::nullopt};
    ASSERT_TRUE(google::protobuf::util::MessageToJsonString(request, &pending.request).ok());
    stores_.state.outbox.emplace(id,
                                 FakeStores::Outboxed{pending, clock_.now(), "pending", clock_.now(), ""});
  }

  const FakeStores::Outboxed& row(const std::string& id) { return stores_.state.outbox.at(id); }

  FakeClock clock_;
  FakeStores stores_;
  FakeNotifications notifications_;
  OutboxRelay relay_{stores_, notifications_, clock_,
                     OutboxRelayOptions{.max_backoff = std::chrono::seconds(8)},
                     OutboxRelay::Driver::kCaller};
};

TEST_F(OutboxRelayTest, HandsOverWithTheIntentIdAndMarksIt) {
  add_pending("ev-7-aa");
  EXPECT_EQ(relay_.relay_once().value(), 1);
  ASSERT_EQ(notifications_.queued.size(), 1u);
  EXPECT_EQ(notifications_.queued[0].request_id(), "ev-7-aa");
  EXPECT_EQ(notifications_.queued_request_ids[0], "trace-ev-7-aa");  // the notify's, for the logs
  EXPECT_EQ(notifications_.queued[0].recipients(0), "party@here.net");
  EXPECT_EQ(row("ev-7-aa").state, "handed_over");
  EXPECT_EQ(relay_.relay_once().value(), 0);  // nothing twice
  EXPECT_EQ(notifications_.queued.size(), 1u);
  EXPECT_EQ(stores_.backlog().pending, 0);
}

// A row an older release queued still names the link base it was given
// (the field is gone): its mail goes out all the same, without it.
TEST_F(OutboxRelayTest, ARowWithTheRemovedLinkBaseIsStillHandedOver) {
  add_pending("ev-7-old");
  PendingNotification& pending = stores_.state.outbox.at("ev-7-old").notification;
  ASSERT_EQ(pending.request.back(), '}');
  pending.request.insert(pending.request.size() - 1, R"(,"linkBaseUrl":"http://evil.example")");
  EXPECT_EQ(relay_.relay_once().value(), 1);
  ASSERT_EQ(notifications_.queued.size(), 1u);
  EXPECT_EQ(notifications_.queued[0].event_id(), 7);
  EXPECT_EQ(row("ev-7-old").state, "handed_over");
}

TEST_F(OutboxRelayTest, RetriesWithGrowingBackoffWhileTheNotificationServiceIsDown) {
  add_pending("ev-7-bb");
  notifications_.queue_status = absl::UnavailableError("down");
  EXPECT_EQ(relay_.relay_once().value(), 1);
  EXPECT_EQ(row("ev-7-bb").state, "pending");
  EXPECT_EQ(row("ev-7-bb").last_error, "down");
  EXPECT_EQ(relay_.relay_once().value(), 0);  // not due before the backoff
  clock_.advance(std::chrono::seconds(1));
  EXPECT_EQ(relay_.relay_once().value(), 1);  // second failure: two seconds
  clock_.advance(std::chrono::seconds(1));
  EXPECT_EQ(relay_.relay_once().value(), 0);
  clock_.advance(std::chrono::seconds(1));
  notifications_.queue_status = absl::OkStatus();
  EXPECT_EQ(relay_.relay_once().value(), 1);
  EXPECT_EQ(row("ev-7-bb").state, "handed_over");
  EXPECT_EQ(notifications_.queued.size(), 1u);
}

TEST_F(OutboxRelayTest, BackoffStopsGrowingAtTheMaximum) {
  add_pending("ev-7-cc");
  notifications_.queue_status = absl::UnavailableError("down");
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(relay_.relay_once().value(), 1) << i;
    clock_.advance(std::chrono::seconds(8));
  }
}

TEST_F(OutboxRelayTest, ARefusedRequestIsNotRetried) {
  add_pending("ev-7-dd");
  notifications_.queue_status = absl::InvalidArgumentError("bad");
  EXPECT_EQ(relay_.relay_once().value(), 1);
  EXPECT_EQ(row("ev-7-dd").state, "refused");
  clock_.advance(std::chrono::hours(1));
  EXPECT_EQ(relay_.relay_once().value(), 0);
}

// The database refusing the claim: reported (the loop logs it), nothing
// handed over, and the row relayed on the next tick.
TEST_F(OutboxRelayTest, AClaimTheDatabaseRefusesIsReportedAndTriedOnTheNextTick) {
  add_pending("ev-7-ff");
  stores_.next_runs = {absl::UnavailableError("database refused")};
  EXPECT_EQ(relay_.relay_once().status(), absl::UnavailableError("database refused"));
  EXPECT_TRUE(notifications_.queued.empty());
  EXPECT_EQ(relay_.relay_once().value(), 1);
  EXPECT_EQ(row("ev-7-ff").state, "handed_over");
}

// A hand-over the database refused to record: reported, and the row, still
// pending, is handed over again once its lease ends (the notification
// service deduplicates by the id it carries both times).
TEST_F(OutboxRelayTest, AnUnrecordedHandOverIsReportedAndRelayedAgainAfterItsLease) {
  add_pending("ev-7-gg");
  stores_.next_runs = {absl::OkStatus(), absl::UnavailableError("database refused")};
  EXPECT_EQ(relay_.relay_once().status(), absl::UnavailableError("database refused"));
  ASSERT_EQ(notifications_.queued.size(), 1u);
  EXPECT_EQ(row("ev-7-gg").state, "pending");
  EXPECT_EQ(relay_.relay_once().value(), 0);  // leased
  clock_.advance(OutboxRelayOptions{}.lease);
  EXPECT_EQ(relay_.relay_once().value(), 1);
  ASSERT_EQ(notifications_.queued.size(), 2u);
  EXPECT_EQ(notifications_.queued[1].request_id(), "ev-7-gg");
  EXPECT_EQ(row("ev-7-gg").state, "handed_over");
}

TEST_F(OutboxRelayTest, BacklogCountsPendingAndTheOldest) {
  add_pending("ev-7-ee");
  const Instant first = clock_.now();
  clock_.advance(std::chrono::seconds(5));
  add_pending("ev-7-ff");
  const NotificationBacklog backlog = stores_.backlog();
  EXPECT_EQ(backlog.pending, 2);
  EXPECT_EQ(backlog.oldest, first);
}

}  // namespace
}  // namespace calndro::events
