#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/text/time_format.h"

// The one error style of the services: domain code returns absl::Status
// (absl::StatusOr<T>), built here when it carries details. A detail travels as
// a payload keyed by its google.rpc type URL; to_grpc_status() packs them into
// the google.rpc.Status of the gRPC trailer `grpc-status-details-bin`, so the
// gateway can rebuild SPEC's error bodies and generic clients (grpcurl) can
// read them.
namespace calndro {

struct FieldViolation {
  std::string field;        // REST/JSON field name: "slots", "parties", "title"
  std::string description;  // a sentence for the caller
};

inline constexpr const char* kTokenExpiredReason = "TOKEN_EXPIRED";
// The event's state does not allow the call now (REST 409): a change of the
// slots of an agreed event, a reopen of an open one, an answer too late.
inline constexpr const char* kEventAgreedReason = "EVENT_AGREED";
inline constexpr const char* kEventNotAgreedReason = "EVENT_NOT_AGREED";
// Answers after the event's deadline, from anyone but the creator and staff.
inline constexpr const char* kAnswersClosedReason = "ANSWERS_CLOSED";
// An idempotency key (request_id) sent again with another request.
inline constexpr const char* kIdempotencyKeyReusedReason = "IDEMPOTENCY_KEY_REUSED";

// What an error carries at most, so that its trailer (the message and the
// details, both repeated there) always fits the metadata limit of
// common/grpc/grpc_channel.h: the first kMaxViolations violations, each field
// and description cut to kMaxViolationBytes (on a UTF-8 boundary), then
// one entry "And N more." (under the dropped violations' field when they
// share one, else with no field).
inline constexpr std::size_t kMaxViolations = 30;
inline constexpr std::size_t kMaxViolationBytes = 300;

// INVALID_ARGUMENT with a google.rpc.BadRequest (capped as above).
absl::Status invalid_argument(std::vector<FieldViolation> violations);
absl::Status invalid_argument(std::string field, std::string description);

// UNAUTHENTICATED "Token expired" with google.rpc.ErrorInfo
// {reason: TOKEN_EXPIRED, metadata: {expires: <RFC 3339>}}.
absl::Status token_expired(Instant expires);

// FAILED_PRECONDITION with google.rpc.ErrorInfo {reason} (one of the
// reasons above): a call the resource's state refuses, as opposed to a stale
// version (which carries the current resource instead).
absl::Status state_conflict(std::string reason, const std::string& message);
// ALREADY_EXISTS with google.rpc.ErrorInfo {reason: IDEMPOTENCY_KEY_REUSED}.
absl::Status idempotency_key_reused(const std::string& message);

// RESOURCE_EXHAUSTED with google.rpc.RetryInfo {retry_delay}: the caller may
// try again after that long (the gateway's 429 with Retry-After).
absl::Status resource_exhausted(const std::string& message, std::chrono::seconds retry_after);

// The same status for the wire: code, message and the details above.
grpc::Status to_grpc_status(const absl::Status& status);
// A status received from another service (details kept), for passing on.
absl::Status from_grpc_status(const grpc::Status& status);

struct StatusDetails {
  std::vector<FieldViolation> violations;
  std::string reason;
  std::map<std::string, std::string> metadata;
  std::optional<std::chrono::seconds> retry_after;  // from RetryInfo
};

// Reads what the helpers above packed; empty when nothing (or garbage) is there.
StatusDetails decode_details(const grpc::Status& status);
StatusDetails decode_details(const absl::Status& status);

}  // namespace calndro
