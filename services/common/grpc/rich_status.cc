#include "common/grpc/rich_status.h"

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

#include <string_view>

#include "absl/strings/cord.h"

namespace calndro {
namespace {

constexpr std::string_view kTypeUrlPrefix = "type.googleapis.com/";

absl::Status with_detail(absl::StatusCode code, const std::string& message,
                         const google::protobuf::Message& detail) {
  absl::Status status(code, message);
  status.SetPayload(std::string(kTypeUrlPrefix) + detail.GetTypeName(),
                    absl::Cord(detail.SerializeAsString()));
  return status;
}

// google.rpc.ErrorInfo {reason, domain "calndro"}: what a client tests to
// tell apart errors that share a code.
google::rpc::ErrorInfo reason_info(std::string reason) {
  google::rpc::ErrorInfo info;
  info.set_reason(std::move(reason));
  info.set_domain("calndro");
  return info;
}

// At most `limit` bytes, never ending inside a UTF-8 sequence.
std::string cut(std::string text, std::size_t limit) {
  if (text.size() <= limit) {
    return text;
  }
  constexpr std::string_view kEllipsis = "...";
  std::size_t end = limit - kEllipsis.size();
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    --end;
  }
  text.resize(end);
  text += kEllipsis;
  return text;
}

std::vector<FieldViolation> capped(std::vector<FieldViolation> violations) {
  std::string dropped_field;
  const std::size_t dropped = violations.size() > kMaxViolations ? violations.size() - kMaxViolations : 0;
  if (dropped > 0) {
    dropped_field = violations[kMaxViolations].field;
    for (std::size_t i = kMaxViolations; i < violations.size(); ++i) {
      if (violations[i].field != dropped_field) {
        dropped_field.clear();
        break;
      }
    }
    violations.resize(kMaxViolations);
  }
  for (auto& violation : violations) {
    violation.field = cut(std::move(violation.field), kMaxViolationBytes);
    violation.description = cut(std::move(violation.description), kMaxViolationBytes);
  }
  if (dropped > 0) {
    violations.push_back(
        {cut(std::move(dropped_field), kMaxViolationBytes), "And " + std::to_string(dropped) + " more."});
  }
  return violations;
}

}  // namespace

absl::Status invalid_argument(std::vector<FieldViolation> violations) {
  violations = capped(std::move(violations));
  google::rpc::BadRequest bad_request;
  std::string message;
  for (const auto& violation : violations) {
    auto* out = bad_request.add_field_violations();
    out->set_field(violation.field);
    out->set_description(violation.description);
    if (!message.empty()) {
      message += "; ";
    }
    message += violation.field + ": " + violation.description;
  }
  return with_detail(absl::StatusCode::kInvalidArgument, message, bad_request);
}

absl::Status invalid_argument(std::string field, std::string description) {
  return invalid_argument(std::vector<FieldViolation>{{std::move(field), std::move(description)}});
}

absl::Status token_expired(Instant expires) {
  google::rpc::ErrorInfo info = reason_info(kTokenExpiredReason);
  (*info.mutable_metadata())["expires"] = format_instant(expires);
  return with_detail(absl::StatusCode::kUnauthenticated, "Token expired", info);
}

absl::Status state_conflict(std::string reason, const std::string& message) {
  return with_detail(absl::StatusCode::kFailedPrecondition, message, reason_info(std::move(reason)));
}

absl::Status idempotency_key_reused(const std::string& message) {
  return with_detail(absl::StatusCode::kAlreadyExists, message, reason_info(kIdempotencyKeyReusedReason));
}

absl::Status resource_exhausted(const std::string& message, std::chrono::seconds retry_after) {
  google::rpc::RetryInfo info;
  info.mutable_retry_delay()->set_seconds(retry_after.count());
  return with_detail(absl::StatusCode::kResourceExhausted, message, info);
}

grpc::Status to_grpc_status(const absl::Status& status) {
  if (status.ok()) {
    return grpc::Status::OK;
  }
  // absl and gRPC share the canonical code numbers.
  const auto code = static_cast<grpc::StatusCode>(status.code());
  const std::string message(status.message());
  google::rpc::Status envelope;
  status.ForEachPayload([&envelope](absl::string_view type_url, const absl::Cord& payload) {
    auto* any = envelope.add_details();
    any->set_type_url(std::string(type_url));
    any->set_value(std::string(payload));
  });
  if (envelope.details().empty()) {
    return grpc::Status(code, message);
  }
  envelope.set_code(static_cast<int>(code));
  envelope.set_message(message);
  return grpc::Status(code, message, envelope.SerializeAsString());
}

absl::Status from_grpc_status(const grpc::Status& status) {
  if (status.ok()) {
    return absl::OkStatus();
  }
  absl::Status out(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  google::rpc::Status envelope;
  if (!status.error_details().empty() && envelope.ParseFromString(status.error_details())) {
    for (const auto& any : envelope.details()) {
      out.SetPayload(any.type_url(), absl::Cord(any.value()));
    }
  }
  return out;
}

StatusDetails decode_details(const absl::Status& status) {
  return decode_details(to_grpc_status(status));
}

StatusDetails decode_details(const grpc::Status& status) {
  StatusDetails details;
  google::rpc::Status envelope;
  if (status.error_details().empty() || !envelope.ParseFromString(status.error_details())) {
    return details;
  }
  for (const auto& any : envelope.details()) {
    google::rpc::BadRequest bad_request;
    google::rpc::ErrorInfo info;
    google::rpc::RetryInfo retry;
    if (any.UnpackTo(&retry)) {
      details.retry_after = std::chrono::seconds(retry.retry_delay().seconds());
    } else if (any.UnpackTo(&bad_request)) {
      for (const auto& violation : bad_request.field_violations()) {
        details.violations.push_back({violation.field(), violation.description()});
      }
    } else if (any.UnpackTo(&info)) {
      details.reason = info.reason();
      for (const auto& [key, value] : info.metadata()) {
        details.metadata[key] = value;
      }
    }
  }
  return details;
}

}  // namespace calndro
