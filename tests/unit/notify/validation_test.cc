#include <gtest/gtest.h>

#include "common/grpc/rich_status.h"
#include "notify/internal_rpc.h"
#include "notify/notification_service.h"

namespace calndro::notify {
namespace {

v1::QueueNotificationsRequest valid_request() {
  v1::QueueNotificationsRequest request;
  request.set_request_id("req-1");
  request.set_event_id(7);
  request.set_event_title("cybes");
  request.add_recipients("They@Thar.net");
  auto* slot = request.add_slots();
  slot->mutable_begin()->set_seconds(1667265082);
  slot->mutable_begin()->set_nanos(20000000);
  slot->mutable_duration()->set_seconds(600);
  return request;
}

std::vector<std::string> fields_of(const absl::StatusOr<ValidatedQueueRequest>& result) {
  const absl::Status& status = result.status();
  std::vector<std::string> fields;
  for (const auto& violation : decode_details(status).violations) {
    fields.push_back(violation.field);
  }
  return fields;
}

TEST(Validation, AcceptsAndNormalises) {
  auto request = valid_request();
  request.add_recipients("they@thar.net");  // a duplicate after normalising
  request.set_sender("You@Here.net");
  const auto valid = validate_queue_request(request);
  ASSERT_TRUE(valid.ok());
  const ValidatedQueueRequest& out = *valid;
  EXPECT_EQ(out.recipients, std::vector<std::string>{"they@thar.net"});
  EXPECT_EQ(out.mail.sender, "you@here.net");
  ASSERT_EQ(out.mail.slots.size(), 1u);
  EXPECT_EQ(format_instant(out.mail.slots[0].begin), "2022-11-01T01:11:22.020000Z");
  EXPECT_EQ(out.content_hash.size(), 64u);
}

TEST(Validation, SameContentSameHash) {
  const auto a = validate_queue_request(valid_request());
  const auto b = validate_queue_request(valid_request());
  auto other = valid_request();
  other.set_event_title("other");
  const auto c = validate_queue_request(other);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->content_hash, b->content_hash);
  EXPECT_NE(a->content_hash, c->content_hash);
}

TEST(Validation, NamesEveryBadField) {
  v1::QueueNotificationsRequest request;
  request.set_sender("nope");
  const auto result = validate_queue_request(request);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  const auto fields = fields_of(result);
  for (const char* field : {"request_id", "event_id", "recipients", "sender"}) {
    EXPECT_NE(std::find(fields.begin(), fields.end(), field), fields.end()) << field;
  }
}

TEST(Validation, Limits) {
  auto request = valid_request();
  request.set_request_id(std::string(257, 'x'));
  for (int i = 0; i < 100; ++i) {
    request.add_recipients("r" + std::to_string(i) + "@example.org");
  }
  for (int i = 0; i < 30; ++i) {
    *request.add_slots() = request.slots(0);
  }
  request.set_event_title(std::string(257, 't'));
  const auto fields = fields_of(validate_queue_request(request));
  for (const char* field : {"request_id", "recipients", "slots", "event_title"}) {
    EXPECT_NE(std::find(fields.begin(), fields.end(), field), fields.end()) << field;
  }
}

TEST(Validation, TitleLengthCountsCharactersNotBytes) {
  auto request = valid_request();
  std::string title;
  for (int i = 0; i < 256; ++i) {
    title += "é";
  }
  request.set_event_title(title);
  EXPECT_TRUE(validate_queue_request(request).ok());
}

TEST(Validation, BadSlots) {
  for (auto [seconds, nanos] : {std::pair<long, int>{0, 0}, {-1, 0}, {0, -5}, {366L * 86400 + 1, 0}}) {
    auto request = valid_request();
    request.mutable_slots(0)->mutable_duration()->set_seconds(seconds);
    request.mutable_slots(0)->mutable_duration()->set_nanos(nanos);
    EXPECT_EQ(fields_of(validate_queue_request(request)), std::vector<std::string>{"slots"}) << seconds;
  }
  auto request = valid_request();
  request.mutable_slots(0)->mutable_begin()->set_seconds(253402300800);
  EXPECT_EQ(fields_of(validate_queue_request(request)), std::vector<std::string>{"slots"});
}

// The one check of a wire slot (slot_from_proto): whole microseconds only,
// and its sentence reaches the caller.
TEST(Validation, SlotsAreCheckedLikeTheEventService) {
  auto request = valid_request();
  request.mutable_slots(0)->mutable_begin()->set_nanos(20000001);
  const auto result = validate_queue_request(request);
  ASSERT_EQ(fields_of(result), std::vector<std::string>{"slots"});
  EXPECT_EQ(decode_details(result.status()).violations[0].description,
            "begin: at most microsecond precision.");
}

// An older caller may still send the removed link_base_url (field 8): it is
// an unknown field now, so it changes neither the validation nor the hash
// that tells a retry from a different request.
TEST(Validation, TheRemovedLinkBaseIsIgnored) {
  const auto request = valid_request();
  auto old_caller = request;
  old_caller.GetReflection()->MutableUnknownFields(&old_caller)->AddLengthDelimited(8, "http://evil.example");
  const auto a = validate_queue_request(request);
  const auto b = validate_queue_request(old_caller);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->content_hash, b->content_hash);
}

TEST(PageToken, RoundTripsAndIsBoundToTheFilter) {
  const std::string token = encode_page_token(7, 1234);
  EXPECT_EQ(decode_page_token(token, 7), std::optional<std::int64_t>(1234));
  EXPECT_EQ(decode_page_token(token, 8), std::nullopt);
  EXPECT_EQ(decode_page_token("garbage!", 7), std::nullopt);
  EXPECT_EQ(decode_page_token("", 7), std::nullopt);
}

}  // namespace
}  // namespace calndro::notify
