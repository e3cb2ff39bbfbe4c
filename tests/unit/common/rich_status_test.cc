#include "common/rich_status.h"

#include <gtest/gtest.h>

namespace calndro {
namespace {

TEST(RichStatus, FieldViolationsRoundTrip) {
  const auto status = invalid_argument({{"slots", "Mismatch with event"}, {"parties", "Not in event: x@y.io"}});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  const auto details = decode_details(status);
  ASSERT_EQ(details.violations.size(), 2u);
  EXPECT_EQ(details.violations[0].field, "slots");
  EXPECT_EQ(details.violations[1].description, "Not in event: x@y.io");
}

TEST(RichStatus, TokenExpiredCarriesTheExpiry) {
  std::string error;
  const auto expires = parse_instant("2022-11-06T01:00:00Z", error);
  ASSERT_TRUE(expires);
  const auto status = token_expired(*expires);
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
