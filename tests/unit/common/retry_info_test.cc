#include <gtest/gtest.h>

#include "common/grpc/rich_status.h"

namespace calndro {
namespace {

TEST(RetryInfo, ResourceExhaustedCarriesTheDelay) {
  const auto status =
      to_grpc_status(resource_exhausted("Too many failed login attempts.", std::chrono::seconds(42)));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(status.error_message(), "Too many failed login attempts.");
  const auto details = decode_details(status);
  ASSERT_TRUE(details.retry_after);
  EXPECT_EQ(*details.retry_after, std::chrono::seconds(42));
  EXPECT_TRUE(details.violations.empty());
}

TEST(RetryInfo, OtherStatusesHaveNone) {
  EXPECT_FALSE(decode_details(invalid_argument("slots", "x")).retry_after);
  EXPECT_FALSE(decode_details(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "limit")).retry_after);
}

}  // namespace
}  // namespace calndro
