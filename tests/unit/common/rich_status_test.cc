#include "common/grpc/rich_status.h"

#include <gtest/gtest.h>

namespace calndro {
namespace {

TEST(RichStatus, FieldViolationsRoundTrip) {
  const auto status = to_grpc_status(
      invalid_argument({{"slots", "Mismatch with event"}, {"parties", "Not in event: x@y.io"}}));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  const auto details = decode_details(status);
  ASSERT_EQ(details.violations.size(), 2u);
  EXPECT_EQ(details.violations[0].field, "slots");
  EXPECT_EQ(details.violations[1].description, "Not in event: x@y.io");
}

TEST(RichStatus, TokenExpiredCarriesTheExpiry) {
  const auto expires = parse_instant("2022-11-06T01:00:00Z");
  ASSERT_TRUE(expires.ok());
  const auto status = to_grpc_status(token_expired(*expires));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(status.error_message(), "Token expired");
  const auto details = decode_details(status);
  EXPECT_EQ(details.reason, kTokenExpiredReason);
  EXPECT_EQ(details.metadata.at("expires"), "2022-11-06T01:00:00Z");
}

TEST(RichStatus, GarbageDetailsDecodeToNothing) {
  const grpc::Status status(grpc::StatusCode::INTERNAL, "x", "\xff\xfe not a proto");
  const auto details = decode_details(status);
  EXPECT_TRUE(details.violations.empty());
  EXPECT_TRUE(details.reason.empty());
}

}  // namespace
}  // namespace calndro

namespace calndro {
namespace {

TEST(RichStatus, ManyLongViolationsAreCappedSoTheTrailerFits) {
  std::vector<FieldViolation> violations;
  for (int i = 0; i < 300; ++i) {
    violations.push_back({"parties", "Item " + std::to_string(i + 1) + ": " + std::string(1000, 'x')});
  }
  const auto status = to_grpc_status(invalid_argument(violations));
  const auto details = decode_details(status);
  ASSERT_EQ(details.violations.size(), kMaxViolations + 1);
  for (const auto& violation : details.violations) {
    EXPECT_LE(violation.description.size(), kMaxViolationBytes);
    EXPECT_EQ(violation.field, "parties");
  }
  EXPECT_TRUE(details.violations[0].description.starts_with("Item 1: xxx"));
  EXPECT_EQ(details.violations.back().description, "And 270 more.");
  // The message and the details both travel in the trailer.
  EXPECT_LT(status.error_message().size() + status.error_details().size(), 32u * 1024u);
}

TEST(RichStatus, DroppedViolationsOfSeveralFieldsAreSummedUpWithoutAField) {
  std::vector<FieldViolation> violations(kMaxViolations, {"slots", "bad"});
  violations.push_back({"slots", "bad"});
  violations.push_back({"title", "bad"});
  const auto details = decode_details(invalid_argument(violations));
  ASSERT_EQ(details.violations.size(), kMaxViolations + 1);
  EXPECT_EQ(details.violations.back().field, "");
  EXPECT_EQ(details.violations.back().description, "And 2 more.");
}

TEST(RichStatus, ACutNeverSplitsAUtf8Character) {
  std::string description;
  for (int i = 0; i < 400; ++i) {
    description += "\xc3\xa9";  // é
  }
  const auto details = decode_details(invalid_argument("title", description));
  ASSERT_EQ(details.violations.size(), 1u);
  const std::string& cut = details.violations[0].description;
  EXPECT_LE(cut.size(), kMaxViolationBytes);
  EXPECT_TRUE(cut.ends_with("\xc3\xa9..."));
}

TEST(RichStatus, FewViolationsAreKeptWhole) {
  std::vector<FieldViolation> violations(kMaxViolations, {"slots", std::string(kMaxViolationBytes, 'y')});
  const auto details = decode_details(invalid_argument(violations));
  ASSERT_EQ(details.violations.size(), kMaxViolations);
  EXPECT_EQ(details.violations.back().description, std::string(kMaxViolationBytes, 'y'));
}

}  // namespace
}  // namespace calndro
