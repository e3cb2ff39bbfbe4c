#pragma once

#include <grpcpp/support/status.h>

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

// gRPC status -> HTTP status, headers and SPEC §3 error body: the one table
// of the gateway (http_errors.cc), the one in CONVENTIONS.md. The details
// are those of docs/ARCHITECTURE.md "Errors" (google.rpc.BadRequest,
// ErrorInfo TOKEN_EXPIRED and IDEMPOTENCY_KEY_REUSED, RetryInfo).
namespace calndro::gateway {

struct HttpError {
  int status = 500;
  nlohmann::json body = nlohmann::json::object();
  std::vector<std::pair<std::string, std::string>> headers;
};

inline constexpr const char* kWwwAuthenticate = "Basic realm=\"calndro\"";

// The HTTP status for a gRPC code (OK -> 200).
int http_status_for(grpc::StatusCode code);

// A non-OK status as the HTTP error to send. Field violations keep their
// field, a proto field named in the REST API's words (page_size -> limit).
HttpError http_error_from_status(const grpc::Status& status);

// {"detail": message} with the given status.
HttpError detail_error(int status, std::string message);

// 400 with SPEC's field error body: {"field": ["message", ...]}.
HttpError field_errors(nlohmann::json by_field);

// The REST API's name for a field a service names in proto words.
std::string http_field_name(const std::string& proto_field);

}  // namespace calndro::gateway
