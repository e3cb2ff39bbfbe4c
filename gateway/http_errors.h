#pragma once

#include <grpcpp/support/status.h>

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

// gRPC status -> HTTP status, headers and SPEC §3 error body. The table is
// the one in CONVENTIONS.md; the details are those of docs/ARCHITECTURE.md
// "Errors" (google.rpc.BadRequest, ErrorInfo TOKEN_EXPIRED).
namespace calndro::gateway {

struct HttpError {
  int status = 500;
  nlohmann::json body = nlohmann::json::object();
  std::vector<std::pair<std::string, std::string>> headers;
};

inline constexpr const char* kWwwAuthenticate = "Basic realm=\"calndro\"";

// The HTTP status for a gRPC code (OK -> 200).
int http_status_for(grpc::StatusCode code);

// A non-OK status as the HTTP error to send.
HttpError http_error_from_status(const grpc::Status& status);

// {"detail": message} with the given status.
HttpError detail_error(int status, std::string message);

}  // namespace calndro::gateway
