#include <gtest/gtest.h>

#include "common/grpc/rich_status.h"
#include "gateway/api/http_errors.h"

namespace calndro::gateway {
namespace {

std::string header(const HttpError& error, const std::string& name) {
  for (const auto& [key, value] : error.headers) {
    if (key == name) {
      return value;
    }
  }
  return "";
}

TEST(TooManyRequests, RetryInfoBecomesRetryAfter) {
  const HttpError error = http_error_from_status(to_grpc_status(resource_exhausted(
      "Too many failed login attempts; try again in 7 seconds.", std::chrono::seconds(7))));
  EXPECT_EQ(error.status, 429);
  EXPECT_EQ(header(error, "Retry-After"), "7");
  EXPECT_EQ(error.body,
            (nlohmann::json{{"detail", "Too many failed login attempts; try again in 7 seconds."}}));
}

TEST(TooManyRequests, RetryAfterIsAtLeastOneSecond) {
  const HttpError error =
      http_error_from_status(to_grpc_status(resource_exhausted("busy", std::chrono::seconds(0))));
  EXPECT_EQ(header(error, "Retry-After"), "1");
}

TEST(TooManyRequests, TheRuntimesOwnTextIsNotPassedOn) {
  const HttpError error = http_error_from_status(
      grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "received initial metadata size exceeds limit"));
  EXPECT_EQ(error.status, 429);
  EXPECT_EQ(error.body, (nlohmann::json{{"detail", "Too many requests."}}));
  EXPECT_EQ(header(error, "Retry-After"), "");
}

}  // namespace
}  // namespace calndro::gateway
