#include "events/idempotency.h"

#include <grpcpp/test/server_context_test_spouse.h>
#include <gtest/gtest.h>

#include "common/grpc/rich_status.h"
#include "events/event_service.h"
#include "fake_clock.h"
#include "fakes.h"
#include "service_fixture.h"

// SPEC §3 "Idempotency" in the event service's logic, on the in-memory
// stores: a repeat answers the first answer and changes nothing, the same
// key with another request is refused, a failed request leaves no record.
// (Concurrent repeats and the purge need PostgreSQL: tests/integration/
// idempotency_test.cc.)
namespace calndro::events {
namespace {

constexpr const char* kEmailToken = "0123456789abcdef0123456789abcdef01234567";

TEST(IdempotencyKeyTest, AcceptsOneTo255VisibleAsciiCharacters) {
  EXPECT_TRUE(validate_idempotency_key("a").ok());
  EXPECT_TRUE(validate_idempotency_key(std::string(255, '~')).ok());
  EXPECT_TRUE(validate_idempotency_key("9f8e-7d6c_!\"#{}").ok());
  for (const std::string& bad :
       {std::string(), std::string(256, 'k'), std::string("with space"), std::string("tab\there"),
        std::string("caf\xC3\xA9"), std::string("del\x7F")}) {
    const absl::Status status = validate_idempotency_key(bad);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    const auto violations = decode_details(status).violations;
    ASSERT_EQ(violations.size(), 1u) << bad;
    EXPECT_EQ(violations[0].field, "request_id");
  }
}

TEST(IdempotencyKeyTest, HashesTheRequestWithoutItsKey) {
  v1::NotifyPartiesRequest request;
  request.set_id(7);
  request.add_parties("a@here.net");
  request.set_request_id("key-1");
  const std::string hash = request_hash("NotifyParties", request);

  v1::NotifyPartiesRequest same = request;
  same.set_request_id("key-2");
  EXPECT_EQ(request_hash("NotifyParties", same), hash);
  // An older caller's link_base_url (removed, field 6) is where the gateway
  // was reached, not what was asked for.
  same.GetReflection()->MutableUnknownFields(&same)->AddLengthDelimited(6, "http://127.0.0.1:9000");
  EXPECT_EQ(request_hash("NotifyParties", same), hash);

  v1::NotifyPartiesRequest other = request;
  other.set_invitation(true);
  EXPECT_NE(request_hash("NotifyParties", other), hash);
  EXPECT_NE(request_hash("CreateEvent", request), hash);
}

class IdempotencyTest : public ServiceFixture {
 protected:
  IdempotencyTest() {
    owner_ = as_token(stores_.add_user("owner@here.net"));
    other_ = as_token(stores_.add_user("other@here.net"));
    add_email_token(kEmailToken, 1000, "party@here.net");
  }

  static v1::CreateEventRequest create_request(const std::string& key, const std::string& title = "Lunch") {
    v1::CreateEventRequest request;
    request.add_parties("party@here.net");
    slot_to_proto(slot_at(1), *request.add_slots());
    request.set_title(title);
    request.set_request_id(key);
    return request;
  }

  absl::Status create(const Metadata& caller, const v1::CreateEventRequest& request, v1::Event& event,
                      bool* replayed = nullptr) {
    return call(&EventServiceImpl::CreateEvent, caller, request, event, replayed);
  }

  std::int64_t created_event(const Metadata& caller) {
    v1::Event event;
    EXPECT_TRUE(create(caller, create_request(""), event).ok());
    // The email token above is for this event.
    notifications_.tokens[kEmailToken].set_event_id(event.id());
    return event.id();
  }

  static v1::NotifyPartiesRequest notify_request(std::int64_t id, const std::string& key) {
    v1::NotifyPartiesRequest request;
    request.set_id(id);
    request.add_parties("party@here.net");
    slot_to_proto(slot_at(1), *request.add_slots());
    request.set_request_id(key);
    return request;
  }

  static v1::AgreeEventRequest agree_request(std::int64_t id, const std::string& key) {
    v1::AgreeEventRequest request;
    request.set_id(id);
    slot_to_proto(slot_at(1), *request.mutable_slot());
    request.set_request_id(key);
    return request;
  }

  std::size_t log_size() const { return stores_.state.log.size(); }

  Metadata owner_, other_;
};

TEST_F(IdempotencyTest, CreateWithoutAKeyStaysOneStatementAtATime) {
  v1::Event event;
  ASSERT_TRUE(create(owner_, create_request(""), event).ok());
  EXPECT_EQ(stores_.runs.back(), Atomicity::kPerStatement);
  EXPECT_TRUE(stores_.state.idempotency.empty());
}

TEST_F(IdempotencyTest, RepeatedCreateAnswersTheFirstEventAndCreatesNothing) {
  v1::Event first;
  bool replayed = true;
  ASSERT_TRUE(create(owner_, create_request("create-1", ""), first, &replayed).ok());
  EXPECT_FALSE(replayed);
  EXPECT_EQ(stores_.runs.back(), Atomicity::kTransaction);
  const std::size_t events = stores_.state.events.size();
  const std::size_t entries = log_size();

  v1::Event again;
  ASSERT_TRUE(create(owner_, create_request("create-1", ""), again, &replayed).ok());
  EXPECT_TRUE(replayed);
  // The generated title too: the first answer, not a second draw.
  EXPECT_EQ(again.SerializeAsString(), first.SerializeAsString());
  EXPECT_EQ(stores_.state.events.size(), events);
  EXPECT_EQ(log_size(), entries);
}

TEST_F(IdempotencyTest, TheSameKeyWithAnotherRequestIsRefusedAndChangesNothing) {
  v1::Event first;
  ASSERT_TRUE(create(owner_, create_request("create-2", "Lunch"), first).ok());
  const std::size_t events = stores_.state.events.size();
  const std::size_t entries = log_size();

  v1::Event other;
  const absl::Status status = create(owner_, create_request("create-2", "Dinner"), other);
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists) << status;
  EXPECT_EQ(decode_details(status).reason, kIdempotencyKeyReusedReason);
  EXPECT_EQ(stores_.state.events.size(), events);
  EXPECT_EQ(log_size(), entries);

  // Another RPC with the key is another request too.
  const absl::Status notify_status = [&] {
    v1::NotifyPartiesResponse response;
    return call(&EventServiceImpl::NotifyParties, owner_, notify_request(first.id(), "create-2"), response);
  }();
  EXPECT_EQ(notify_status.code(), absl::StatusCode::kAlreadyExists) << notify_status;
  EXPECT_TRUE(stores_.state.outbox.empty());
}

TEST_F(IdempotencyTest, KeysBelongToTheirCaller) {
  v1::Event mine, theirs;
  bool replayed = true;
  ASSERT_TRUE(create(owner_, create_request("shared-key"), mine).ok());
  ASSERT_TRUE(create(other_, create_request("shared-key"), theirs, &replayed).ok());
  EXPECT_FALSE(replayed);
  EXPECT_NE(mine.id(), theirs.id());
  EXPECT_EQ(theirs.parties(0), "other@here.net");
}

TEST_F(IdempotencyTest, AFailedRequestLeavesNoRecordSoItsRetryRuns) {
  v1::CreateEventRequest bad = create_request("retry-1");
  bad.clear_parties();
  v1::Event event;
  EXPECT_EQ(create(owner_, bad, event).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(stores_.state.idempotency.empty());

  bool replayed = true;
  ASSERT_TRUE(create(owner_, create_request("retry-1"), event, &replayed).ok());
  EXPECT_FALSE(replayed);
  EXPECT_EQ(stores_.state.idempotency.size(), 1u);
}

TEST_F(IdempotencyTest, AMalformedKeyIsRefusedNamingRequestId) {
  v1::Event event;
  const absl::Status status = create(owner_, create_request("two words"), event);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  ASSERT_EQ(decode_details(status).violations.size(), 1u);
  EXPECT_EQ(decode_details(status).violations[0].field, "request_id");
  EXPECT_TRUE(stores_.state.events.empty());
}

TEST_F(IdempotencyTest, AnswersAreReplayedFor24HoursOnly) {
  v1::Event first, later, again;
  bool replayed = false;
  ASSERT_TRUE(create(owner_, create_request("day-1"), first).ok());
  clock_.advance(std::chrono::hours(24) - std::chrono::seconds(1));
  ASSERT_TRUE(create(owner_, create_request("day-1"), later, &replayed).ok());
  EXPECT_TRUE(replayed);
  EXPECT_EQ(later.id(), first.id());

  clock_.advance(std::chrono::seconds(2));
  ASSERT_TRUE(create(owner_, create_request("day-1"), again, &replayed).ok());
  EXPECT_FALSE(replayed);
  EXPECT_NE(again.id(), first.id());
}

TEST_F(IdempotencyTest, RepeatedNotifyQueuesNoSecondMailNorEntries) {
  const std::int64_t id = created_event(owner_);
  v1::NotifyPartiesResponse first, again;
  bool replayed = true;
  ASSERT_TRUE(
      call(&EventServiceImpl::NotifyParties, owner_, notify_request(id, "notify-1"), first, &replayed).ok());
  EXPECT_FALSE(replayed);
  ASSERT_EQ(stores_.state.outbox.size(), 1u);
  const std::size_t entries = log_size();

  ASSERT_TRUE(
      call(&EventServiceImpl::NotifyParties, owner_, notify_request(id, "notify-1"), again, &replayed).ok());
  EXPECT_TRUE(replayed);
  EXPECT_EQ(again.SerializeAsString(), first.SerializeAsString());
  EXPECT_EQ(stores_.state.outbox.size(), 1u);
  EXPECT_EQ(log_size(), entries);
}

TEST_F(IdempotencyTest, AnEmailTokenIsACallerOfItsOwn) {
  const std::int64_t id = created_event(owner_);
  const Metadata token = {{"x-email-token", kEmailToken}};
  v1::NotifyPartiesResponse by_token, again, by_owner;
  bool replayed = false;
  ASSERT_TRUE(call(&EventServiceImpl::NotifyParties, token, notify_request(id, "n-2"), by_token).ok());
  ASSERT_TRUE(
      call(&EventServiceImpl::NotifyParties, token, notify_request(id, "n-2"), again, &replayed).ok());
  EXPECT_TRUE(replayed);
  EXPECT_EQ(stores_.state.outbox.size(), 1u);
  // Keyed by the token's event and fingerprint, never by the token.
  for (const auto& [key, record] : stores_.state.idempotency) {
    EXPECT_EQ(key.first.find(kEmailToken), std::string::npos);
  }
  EXPECT_EQ(stores_.state.idempotency.count({"token:" + std::to_string(id) + ":fp-0123", "n-2"}), 1u);

  ASSERT_TRUE(
      call(&EventServiceImpl::NotifyParties, owner_, notify_request(id, "n-2"), by_owner, &replayed).ok());
  EXPECT_FALSE(replayed);
  EXPECT_EQ(stores_.state.outbox.size(), 2u);
}

// A stored answer carries the event and its parties: it goes only to a
// caller who may still make the call, checked before the key is looked up.
TEST_F(IdempotencyTest, AReplayGoesOnlyToACallerWhoMayStillMakeTheCall) {
  const std::int64_t id = created_event(owner_);
  const Metadata staff = as_token(stores_.add_user("staff@here.net", /*staff=*/true));
  v1::NotifyPartiesResponse first, again;
  ASSERT_TRUE(call(&EventServiceImpl::NotifyParties, staff, notify_request(id, "staff-1"), first).ok());
  for (auto& [user_id, user] : stores_.state.users) {
    if (user.email == "staff@here.net") {
      user.staff = false;  // no longer staff, and never a party
    }
  }
  bool replayed = true;
  const absl::Status refused =
      call(&EventServiceImpl::NotifyParties, staff, notify_request(id, "staff-1"), again, &replayed);
  EXPECT_EQ(refused.code(), absl::StatusCode::kPermissionDenied) << refused;
  EXPECT_FALSE(replayed);
  EXPECT_EQ(again.parties_size(), 0) << "nothing of the stored answer";
}

TEST_F(IdempotencyTest, AReplayOnADeletedEventIsNotFound) {
  const std::int64_t id = created_event(owner_);
  v1::NotifyPartiesResponse notified;
  v1::Event agreed;
  ASSERT_TRUE(call(&EventServiceImpl::NotifyParties, owner_, notify_request(id, "del-1"), notified).ok());
  ASSERT_TRUE(call(&EventServiceImpl::AgreeEvent, owner_, agree_request(id, "del-2"), agreed).ok());
  stores_.state.events.at(id).deleted = true;
  bool replayed = true;
  v1::NotifyPartiesResponse notified_again;
  EXPECT_EQ(
      call(&EventServiceImpl::NotifyParties, owner_, notify_request(id, "del-1"), notified_again, &replayed)
          .code(),
      absl::StatusCode::kNotFound);
  EXPECT_FALSE(replayed);
  v1::Event agreed_again;
  EXPECT_EQ(
      call(&EventServiceImpl::AgreeEvent, owner_, agree_request(id, "del-2"), agreed_again, &replayed).code(),
      absl::StatusCode::kNotFound);
  EXPECT_FALSE(replayed);
}

// Agreeing again on the agreed slot changes nothing, queues and logs
// nothing: it keeps no record either (a repeat is the same no-op).
TEST_F(IdempotencyTest, AnAgreeThatChangesNothingLeavesNoRecord) {
  const std::int64_t id = created_event(owner_);
  v1::Event first, same, again;
  ASSERT_TRUE(call(&EventServiceImpl::AgreeEvent, owner_, agree_request(id, "agree-1"), first).ok());
  ASSERT_EQ(stores_.state.idempotency.size(), 1u);
  const std::size_t entries = log_size();
  bool replayed = true;
  ASSERT_TRUE(
      call(&EventServiceImpl::AgreeEvent, owner_, agree_request(id, "agree-2"), same, &replayed).ok());
  EXPECT_FALSE(replayed);
  EXPECT_EQ(same.SerializeAsString(), first.SerializeAsString());
  EXPECT_EQ(stores_.state.idempotency.size(), 1u) << "no record for the no-op";
  ASSERT_TRUE(
      call(&EventServiceImpl::AgreeEvent, owner_, agree_request(id, "agree-2"), again, &replayed).ok());
  EXPECT_FALSE(replayed);
  EXPECT_EQ(log_size(), entries);
  EXPECT_EQ(stores_.state.outbox.size(), 1u);
}

}  // namespace
}  // namespace calndro::events
