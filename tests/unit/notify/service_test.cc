// NotificationServiceImpl against in-memory stores: authorization,
// validation, idempotence and what ResolveToken and ListDeliveries read.
#include <grpcpp/test/server_context_test_spouse.h>
#include <gtest/gtest.h>

#include "common/grpc/rich_status.h"
#include "common/text/proto_time.h"
#include "fake_stores.h"
#include "notify/notification_service.h"
#include "notify/token_store.h"

namespace calndro::notify {
namespace {

using testing::FakeStores;
using testing::ManualClock;

constexpr const char* kInternalToken = "unit-internal-credential";

v1::QueueNotificationsRequest queue_request() {
  v1::QueueNotificationsRequest request;
  request.set_request_id("req-1/event/7");
  request.set_event_id(7);
  request.set_event_title("cybes");
  request.set_invitation(true);
  request.add_recipients("They@Thar.net");
  request.add_recipients("you@here.net");
  request.add_recipients("they@thar.net");  // the first one again, after lower-casing
  auto* slot = request.add_slots();
  slot->mutable_begin()->set_seconds(1667265082);
  slot->mutable_duration()->set_seconds(600);
  return request;
}

class NotificationServiceTest : public ::testing::Test {
 protected:
  NotificationServiceTest() : service_(fake_.stores(), settings(), [this] { ++wakeups_; }) {}

  static ServiceSettings settings() {
    ServiceSettings settings;
    settings.internal_token = kInternalToken;
    return settings;
  }

  // Calls `rpc` as the event service would (credential in metadata, unless
  // another one is given; empty: none).
  template <typename Request, typename Response>
  grpc::Status call(grpc::Status (NotificationServiceImpl::*rpc)(grpc::ServerContext*, const Request*,
                                                                 Response*),
                    const Request& request, Response& response,
                    const std::string& credential = kInternalToken) {
    grpc::ServerContext context;
    grpc::testing::ServerContextTestSpouse spouse(&context);
    if (!credential.empty()) {
      spouse.AddClientMetadata("x-calndro-internal", credential);
    }
    return (service_.*rpc)(&context, &request, &response);
  }

  grpc::Status queue(const v1::QueueNotificationsRequest& request, v1::QueueNotificationsResponse& response) {
    return call(&NotificationServiceImpl::QueueNotifications, request, response);
  }

  ManualClock clock_;
  FakeStores fake_{clock_};
  int wakeups_ = 0;
  NotificationServiceImpl service_;
};

TEST_F(NotificationServiceTest, QueuesOneMailPerRecipientWithoutAToken) {
  v1::QueueNotificationsResponse response;
  ASSERT_TRUE(queue(queue_request(), response).ok());
  ASSERT_EQ(response.mails_size(), 2);
  EXPECT_EQ(response.mails(0).recipient(), "they@thar.net");
  EXPECT_EQ(response.mails(1).recipient(), "you@here.net");
  ASSERT_EQ(fake_.mails.size(), 2u);
  const OutgoingMail& stored = fake_.mails.at(response.mails(0).mail_id()).mail;
  EXPECT_EQ(stored.subject, "[calndro] Invitation: 'cybes'");
  EXPECT_EQ(stored.sender, "calndro <noreply@calndro.localhost>");
  ASSERT_TRUE(stored.content.has_value());
  EXPECT_TRUE(fake_.tokens.empty());  // the dispatcher mints them when it sends
  EXPECT_EQ(wakeups_, 1);
}

TEST_F(NotificationServiceTest, SameRequestIdAnswersTheFirstMailsAndQueuesNothing) {
  v1::QueueNotificationsResponse first;
  v1::QueueNotificationsResponse again;
  ASSERT_TRUE(queue(queue_request(), first).ok());
  ASSERT_TRUE(queue(queue_request(), again).ok());
  EXPECT_EQ(again.SerializeAsString(), first.SerializeAsString());
  EXPECT_EQ(fake_.mails.size(), 2u);
  EXPECT_EQ(wakeups_, 1);
}

TEST_F(NotificationServiceTest, SameRequestIdWithOtherContentIsAlreadyExists) {
  v1::QueueNotificationsResponse response;
  ASSERT_TRUE(queue(queue_request(), response).ok());
  auto other = queue_request();
  other.set_event_title("something else");
  v1::QueueNotificationsResponse refused;
  const grpc::Status status = queue(other, refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(refused.mails_size(), 0);
  EXPECT_EQ(fake_.mails.size(), 2u);
}

TEST_F(NotificationServiceTest, InvalidRequestTouchesNoStore) {
  auto request = queue_request();
  request.clear_recipients();
  request.set_event_id(0);
  v1::QueueNotificationsResponse response;
  const grpc::Status status = queue(request, response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  std::vector<std::string> fields;
  for (const auto& violation : decode_details(status).violations) {
    fields.push_back(violation.field);
  }
  EXPECT_EQ(fields, (std::vector<std::string>{"event_id", "recipients"}));
  EXPECT_EQ(fake_.transactions, 0);
  EXPECT_EQ(wakeups_, 0);
}

TEST_F(NotificationServiceTest, CredentialMissingOrWrong) {
  v1::QueueNotificationsResponse response;
  EXPECT_EQ(call(&NotificationServiceImpl::QueueNotifications, queue_request(), response, "").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(
      call(&NotificationServiceImpl::QueueNotifications, queue_request(), response, "guess").error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  v1::ResolveTokenRequest resolve;
  resolve.set_token(std::string(40, 'a'));
  v1::ResolveTokenResponse resolved;
  EXPECT_EQ(call(&NotificationServiceImpl::ResolveToken, resolve, resolved, "guess").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::ListDeliveriesResponse listed;
  EXPECT_EQ(
      call(&NotificationServiceImpl::ListDeliveries, v1::ListDeliveriesRequest(), listed, "").error_code(),
      grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(fake_.transactions, 0);
}

TEST_F(NotificationServiceTest, DatabaseDownIsUnavailable) {
  fake_.unavailable = true;
  v1::QueueNotificationsResponse response;
  const grpc::Status status = queue(queue_request(), response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(status.error_message().find("fake"), std::string::npos) << "internals leaked";
  EXPECT_EQ(wakeups_, 0);
}

// Each RPC's unit of work: queueing commits its statements together, a
// token is one statement, a list one read-only transaction.
TEST_F(NotificationServiceTest, EachRpcAsksForItsAtomicity) {
  v1::QueueNotificationsResponse queued;
  ASSERT_TRUE(queue(queue_request(), queued).ok());
  v1::ResolveTokenRequest resolve;
  resolve.set_token(std::string(40, 'f'));
  v1::ResolveTokenResponse resolved;
  call(&NotificationServiceImpl::ResolveToken, resolve, resolved);
  v1::ListDeliveriesResponse listed;
  ASSERT_TRUE(call(&NotificationServiceImpl::ListDeliveries, v1::ListDeliveriesRequest(), listed).ok());
  EXPECT_EQ(fake_.runs, (std::vector<Atomicity>{Atomicity::kTransaction, Atomicity::kPerStatement,
                                                Atomicity::kReadOnly}));
}

// A unit of work the database refuses (its call given up): that status is
// the answer, nothing is queued and the dispatcher is not woken.
TEST_F(NotificationServiceTest, ARefusedUnitOfWorkIsTheAnswer) {
  fake_.refusal = absl::DeadlineExceededError("deadline passed");
  v1::QueueNotificationsResponse response;
  const grpc::Status status = queue(queue_request(), response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(response.mails_size(), 0);
  EXPECT_TRUE(fake_.mails.empty());
  EXPECT_EQ(wakeups_, 0);
  v1::ListDeliveriesResponse listed;
  EXPECT_EQ(call(&NotificationServiceImpl::ListDeliveries, v1::ListDeliveriesRequest(), listed).error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
}

TEST_F(NotificationServiceTest, ResolveTokenReadsTheStoredToken) {
  const std::string token = "00112233445566778899AABBCCDDEEFF00112233";  // upper case is accepted
  const Instant expires = clock_.now() + std::chrono::days(5);
  testing::FakeTransaction tx;
  fake_.insert(tx, {token_hash(canonical_token(token)), token_fingerprint(canonical_token(token)), 7,
                    "they@thar.net", expires, "req-1/event/7"});
  v1::ResolveTokenRequest request;
  request.set_token(token);
  v1::ResolveTokenResponse response;
  ASSERT_TRUE(call(&NotificationServiceImpl::ResolveToken, request, response).ok());
  EXPECT_EQ(response.event_id(), 7);
  EXPECT_EQ(response.party_email(), "they@thar.net");
  EXPECT_EQ(instant_from_proto(response.expires()), expires);
  EXPECT_EQ(response.fingerprint(), token_fingerprint(canonical_token(token)));

  request.set_token(std::string(40, 'f'));
  EXPECT_EQ(call(&NotificationServiceImpl::ResolveToken, request, response).error_code(),
            grpc::StatusCode::NOT_FOUND);
  request.set_token("not-a-token");
  EXPECT_EQ(call(&NotificationServiceImpl::ResolveToken, request, response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(NotificationServiceTest, ListDeliveriesReadsEachMailsState) {
  v1::QueueNotificationsResponse queued;
  ASSERT_TRUE(queue(queue_request(), queued).ok());
  const std::int64_t sent_id = queued.mails(0).mail_id();
  const std::int64_t waiting_id = queued.mails(1).mail_id();
  testing::FakeTransaction tx;
  clock_.advance(std::chrono::seconds(3));
  const Claim claim{"test-replica", 1};
  fake_.mails.at(sent_id).lease = claim;
  fake_.mails.at(waiting_id).lease = claim;
  ASSERT_TRUE(fake_.mark_sent(tx, sent_id, 41, claim));
  ASSERT_TRUE(fake_.mark_retry(tx, waiting_id, "421 try later", std::chrono::milliseconds(2000), claim));

  v1::ListDeliveriesRequest request;
  request.set_event_id(7);
  v1::ListDeliveriesResponse response;
  ASSERT_TRUE(call(&NotificationServiceImpl::ListDeliveries, request, response).ok());
  ASSERT_EQ(response.deliveries_size(), 2);
  const v1::Delivery& waiting = response.deliveries(0);  // newest first
  EXPECT_EQ(waiting.mail_id(), waiting_id);
  EXPECT_EQ(waiting.state(), v1::DELIVERY_STATE_QUEUED);
  EXPECT_EQ(waiting.attempts(), 1);
  EXPECT_EQ(waiting.last_error(), "421 try later");
  EXPECT_FALSE(waiting.has_sent_at());
  EXPECT_EQ(instant_from_proto(waiting.next_attempt_at()), clock_.now() + std::chrono::seconds(2));
  const v1::Delivery& sent = response.deliveries(1);
  EXPECT_EQ(sent.state(), v1::DELIVERY_STATE_SENT);
  EXPECT_EQ(sent.attempts(), 1);
  EXPECT_EQ(instant_from_proto(sent.sent_at()), clock_.now());
  EXPECT_EQ(instant_from_proto(sent.queued_at()), clock_.now() - std::chrono::seconds(3));
  EXPECT_FALSE(sent.has_next_attempt_at());
  EXPECT_TRUE(response.next_page_token().empty());
}

TEST_F(NotificationServiceTest, ListDeliveriesPagesWithItsToken) {
  for (int i = 0; i < 3; ++i) {
    auto request = queue_request();
    request.set_request_id("req-" + std::to_string(i));
    request.clear_recipients();
    request.add_recipients("r" + std::to_string(i) + "@example.org");
    v1::QueueNotificationsResponse response;
    ASSERT_TRUE(queue(request, response).ok());
  }
  v1::ListDeliveriesRequest request;
  request.set_page_size(2);
  v1::ListDeliveriesResponse first;
  ASSERT_TRUE(call(&NotificationServiceImpl::ListDeliveries, request, first).ok());
  ASSERT_EQ(first.deliveries_size(), 2);
  EXPECT_EQ(first.deliveries(0).recipient(), "r2@example.org");
  ASSERT_FALSE(first.next_page_token().empty());

  request.set_page_token(first.next_page_token());
  v1::ListDeliveriesResponse second;
  ASSERT_TRUE(call(&NotificationServiceImpl::ListDeliveries, request, second).ok());
  ASSERT_EQ(second.deliveries_size(), 1);
  EXPECT_EQ(second.deliveries(0).recipient(), "r0@example.org");
  EXPECT_TRUE(second.next_page_token().empty());

  request.set_event_id(8);  // a token is bound to its filter
  v1::ListDeliveriesResponse refused;
  EXPECT_EQ(call(&NotificationServiceImpl::ListDeliveries, request, refused).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace calndro::notify
