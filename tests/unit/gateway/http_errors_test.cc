#include "gateway/api/http_errors.h"

#include <gtest/gtest.h>

#include "common/grpc/rich_status.h"

namespace calndro::gateway {
namespace {

using grpc::StatusCode;

struct Row {
  StatusCode code;
  int http;
};

TEST(HttpErrors, EveryGrpcCodeMapsAsInTheConventionsTable) {
  const Row table[] = {
      {StatusCode::OK, 200},
      {StatusCode::INVALID_ARGUMENT, 400},
      {StatusCode::FAILED_PRECONDITION, 400},
      {StatusCode::OUT_OF_RANGE, 400},
      {StatusCode::UNAUTHENTICATED, 401},
      {StatusCode::PERMISSION_DENIED, 403},
      {StatusCode::NOT_FOUND, 404},
      {StatusCode::ALREADY_EXISTS, 409},
      {StatusCode::ABORTED, 409},
      {StatusCode::RESOURCE_EXHAUSTED, 429},
      {StatusCode::CANCELLED, 499},
      {StatusCode::UNIMPLEMENTED, 501},
      {StatusCode::UNAVAILABLE, 503},
      {StatusCode::DEADLINE_EXCEEDED, 504},
      {StatusCode::INTERNAL, 500},
      {StatusCode::UNKNOWN, 500},
      {StatusCode::DATA_LOSS, 500},
  };
  for (const auto& row : table) {
    EXPECT_EQ(http_status_for(row.code), row.http) << "code " << row.code;
    if (row.code != StatusCode::OK) {
      HttpError error = http_error_from_status(grpc::Status(row.code, "msg"));
      EXPECT_EQ(error.status, row.http) << "code " << row.code;
      ASSERT_TRUE(error.body.contains("detail")) << error.body.dump();
      EXPECT_TRUE(error.body["detail"].is_string());
    }
  }
}

TEST(HttpErrors, BadRequestDetailsBecomeFieldLists) {
  grpc::Status status = to_grpc_status(invalid_argument({{"slots", "Mismatch with event"},
                                                         {"parties", "Not in event: x@y"},
                                                         {"parties", "Not in event: z@y"}}));
  HttpError error = http_error_from_status(status);
  EXPECT_EQ(error.status, 400);
  EXPECT_EQ(
      error.body,
      nlohmann::json::parse(
          R"({"slots": ["Mismatch with event"], "parties": ["Not in event: x@y", "Not in event: z@y"]})"));
  EXPECT_TRUE(error.headers.empty());
}

TEST(HttpErrors, ProtoPagingFieldsAreNamedAsTheQueryParameters) {
  grpc::Status status =
      to_grpc_status(invalid_argument({{"page_size", "Must be a whole number from 1 to 1000."},
                                       {"page_token", "Invalid cursor."},
                                       {"slots", "Mismatch with event"}}));
  HttpError error = http_error_from_status(status);
  EXPECT_EQ(error.status, 400);
  EXPECT_EQ(error.body, nlohmann::json::parse(R"({"limit": ["Must be a whole number from 1 to 1000."],
                                                  "after": ["Invalid cursor."],
                                                  "slots": ["Mismatch with event"]})"));
}

TEST(HttpErrors, InvalidArgumentWithoutDetailsIsADetail) {
  HttpError error =
      http_error_from_status(grpc::Status(StatusCode::INVALID_ARGUMENT, "Provide slots and/or title."));
  EXPECT_EQ(error.status, 400);
  EXPECT_EQ(error.body, nlohmann::json({{"detail", "Provide slots and/or title."}}));
}

TEST(HttpErrors, FailedPreconditionWithDetailsKeepsFields) {
  grpc::Status with_details = to_grpc_status(invalid_argument("slots", "Mismatch with event"));
  grpc::Status precondition(StatusCode::FAILED_PRECONDITION, with_details.error_message(),
                            with_details.error_details());
  HttpError error = http_error_from_status(precondition);
  EXPECT_EQ(error.status, 400);
  EXPECT_EQ(error.body, nlohmann::json::parse(R"({"slots": ["Mismatch with event"]})"));
}

// The state of the event refuses the call (ErrorInfo reason): 409, apart
// from the 400 of bad input and the 412 of a stale version.
TEST(HttpErrors, AStateConflictIs409WithTheServicesMessage) {
  for (const char* reason : {kEventAgreedReason, kEventNotAgreedReason}) {
    HttpError error = http_error_from_status(to_grpc_status(state_conflict(reason, "The event is agreed.")));
    EXPECT_EQ(error.status, 409) << reason;
    EXPECT_EQ(error.body, nlohmann::json({{"detail", "The event is agreed."}})) << reason;
  }
  HttpError other = http_error_from_status(to_grpc_status(state_conflict("SOMETHING_ELSE", "No.")));
  EXPECT_EQ(other.status, 400);
}

TEST(HttpErrors, UnauthenticatedCarriesWwwAuthenticate) {
  HttpError error = http_error_from_status(grpc::Status(StatusCode::UNAUTHENTICATED, "Invalid token."));
  EXPECT_EQ(error.status, 401);
  EXPECT_EQ(error.body, nlohmann::json({{"detail", "Invalid token."}}));
  ASSERT_EQ(error.headers.size(), 1u);
  EXPECT_EQ(error.headers[0].first, "WWW-Authenticate");
  EXPECT_EQ(error.headers[0].second, "Basic realm=\"calndro\"");
}

TEST(HttpErrors, ExpiredTokenShowsExpiry) {
  const Instant expires = Instant(std::chrono::seconds(1667265082));  // 2022-11-01T01:11:22Z
  HttpError error = http_error_from_status(to_grpc_status(token_expired(expires)));
  EXPECT_EQ(error.status, 401);
  EXPECT_EQ(error.body, nlohmann::json({{"detail", "Token expired"}, {"expires", "2022-11-01T01:11:22Z"}}));
  ASSERT_EQ(error.headers.size(), 1u);
  EXPECT_EQ(error.headers[0].first, "WWW-Authenticate");
}

TEST(HttpErrors, AReusedIdempotencyKeyIs422WithTheServiceMessage) {
  HttpError error =
      http_error_from_status(to_grpc_status(idempotency_key_reused("Key used with another request.")));
  EXPECT_EQ(error.status, 422);
  EXPECT_EQ(error.body, nlohmann::json::parse(R"({"detail": "Key used with another request."})"));
  // ALREADY_EXISTS for any other reason stays a conflict.
  EXPECT_EQ(http_error_from_status(grpc::Status(StatusCode::ALREADY_EXISTS, "exists")).status, 409);
}

TEST(HttpErrors, ServerSideTextNeverLeaks) {
  for (StatusCode code :
       {StatusCode::INTERNAL, StatusCode::UNKNOWN, StatusCode::DATA_LOSS, StatusCode::UNAVAILABLE,
        StatusCode::DEADLINE_EXCEEDED, StatusCode::UNIMPLEMENTED}) {
    HttpError error =
        http_error_from_status(grpc::Status(code, "ERROR: relation \"events.x\" does not exist"));
    EXPECT_EQ(error.body["detail"].get<std::string>().find("relation"), std::string::npos) << code;
  }
}

TEST(HttpErrors, ServiceMessagesPassForClientErrors) {
  EXPECT_EQ(http_error_from_status(grpc::Status(StatusCode::PERMISSION_DENIED, "Staff only.")).body["detail"],
            "Staff only.");
  EXPECT_EQ(http_error_from_status(grpc::Status(StatusCode::NOT_FOUND, "")).body["detail"], "Not found.");
}

}  // namespace
}  // namespace calndro::gateway
