#include "gateway/http_errors.h"

#include <algorithm>

#include "common/rich_status.h"

namespace calndro::gateway {

int http_status_for(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return 200;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::OUT_OF_RANGE:
      return 400;
    case grpc::StatusCode::UNAUTHENTICATED:
      return 401;
    case grpc::StatusCode::PERMISSION_DENIED:
      return 403;
    case grpc::StatusCode::NOT_FOUND:
      return 404;
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::ABORTED:
      return 409;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return 429;
    case grpc::StatusCode::CANCELLED:
      return 499;
    case grpc::StatusCode::UNIMPLEMENTED:
      return 501;
    case grpc::StatusCode::UNAVAILABLE:
      return 503;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return 504;
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::DATA_LOSS:
    default:
      return 500;
  }
}

HttpError detail_error(int status, std::string message) {
  HttpError error;
  error.status = status;
  error.body = {{"detail", std::move(message)}};
  return error;
}

namespace {

// The service's message when it has one (services write them for callers),
// else a fixed wording.
std::string message_or(const grpc::Status& status, const char* fallback) {
  return status.error_message().empty() ? std::string(fallback) : status.error_message();
}

}  // namespace

HttpError http_error_from_status(const grpc::Status& status) {
  const int http = http_status_for(status.error_code());
  switch (status.error_code()) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::OUT_OF_RANGE: {
      StatusDetails details = decode_details(status);
      if (details.violations.empty()) {
        return detail_error(http, message_or(status, "Invalid request."));
      }
      HttpError error;
      error.status = http;
      for (const auto& violation : details.violations) {
        // DRF's name for errors that belong to no single field.
        const std::string field = violation.field.empty() ? "non_field_errors" : violation.field;
        error.body[field].push_back(violation.description);
      }
      return error;
    }
    case grpc::StatusCode::UNAUTHENTICATED: {
      StatusDetails details = decode_details(status);
      HttpError error;
      if (details.reason == kTokenExpiredReason) {
        error = detail_error(http, "Token expired");
        auto expires = details.metadata.find("expires");
        error.body["expires"] = expires == details.metadata.end() ? "" : expires->second;
      } else {
        error = detail_error(http, message_or(status, "Authentication credentials were not provided."));
      }
      error.headers.emplace_back("WWW-Authenticate", kWwwAuthenticate);
      return error;
    }
    case grpc::StatusCode::PERMISSION_DENIED:
      return detail_error(http, message_or(status, "You do not have permission to perform this action."));
    case grpc::StatusCode::NOT_FOUND:
      return detail_error(http, message_or(status, "Not found."));
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::ABORTED:
      return detail_error(http, message_or(status, "Conflict."));
    case grpc::StatusCode::RESOURCE_EXHAUSTED: {
      // The services' own limits say when to come back (RetryInfo); without
      // it the code came from the gRPC runtime, whose text is not for callers.
      const StatusDetails details = decode_details(status);
      if (!details.retry_after) {
        return detail_error(http, "Too many requests.");
      }
      HttpError error = detail_error(http, message_or(status, "Too many requests."));
      const auto seconds = std::max<long long>(1, details.retry_after->count());
      error.headers.emplace_back("Retry-After", std::to_string(seconds));
      return error;
    }
    case grpc::StatusCode::CANCELLED:
      return detail_error(http, "Request cancelled.");
    // The texts of the codes below come from the gRPC runtime or from a
    // failure inside a service (addresses, SQL): never passed on.
    case grpc::StatusCode::UNIMPLEMENTED:
      return detail_error(http, "Not implemented.");
    case grpc::StatusCode::UNAVAILABLE:
      return detail_error(http, "Service temporarily unavailable, try again later.");
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return detail_error(http, "The service did not answer in time.");
    default:
      return detail_error(500, "Internal server error.");
  }
}

}  // namespace calndro::gateway
