#include "common/rich_status.h"

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

#include <string_view>

namespace calndro {
namespace {

grpc::Status pack(grpc::StatusCode code, const std::string& message,
                  const google::protobuf::Message& detail) {
  google::rpc::Status envelope;
  envelope.set_code(static_cast<int>(code));
  envelope.set_message(message);
  envelope.add_details()->PackFrom(detail);
  return grpc::Status(code, message, envelope.SerializeAsString());
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

grpc::Status invalid_argument(std::vector<FieldViolation> violations) {
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
  return pack(grpc::StatusCode::INVALID_ARGUMENT, message, bad_request);
}

grpc::Status invalid_argument(std::string field, std::string description) {
  return invalid_argument(std::vector<FieldViolation>{{std::move(field), std::move(description)}});
}

grpc::Status token_expired(Instant expires) {
  google::rpc::ErrorInfo info;
  info.set_reason(kTokenExpiredReason);
  info.set_domain("calndro");
  (*info.mutable_metadata())["expires"] = format_instant(expires);
  return pack(grpc::StatusCode::UNAUTHENTICATED, "Token expired", info);
}

grpc::Status resource_exhausted(std::string message, std::chrono::seconds retry_after) {
  google::rpc::RetryInfo info;
  info.mutable_retry_delay()->set_seconds(retry_after.count());
  return pack(grpc::StatusCode::RESOURCE_EXHAUSTED, message, info);
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
