#include "gateway/api/http_errors.h"

#include <algorithm>
#include <string_view>

#include "common/grpc/rich_status.h"

namespace calndro::gateway {

namespace {

using grpc::StatusCode;

// Adds what a code's details say to its error (fields, expiry, retry delay).
using Refine = void (*)(const grpc::Status& status, HttpError& error);

// kService: the service's message when it has one (services write them for
// callers), else `text`. kFixed: always `text`: the message comes from the
// gRPC runtime or from a failure inside a service (addresses, SQL).
enum class Message { kService, kFixed };

struct CodeRow {
  StatusCode code;
  int http;
  Message message;
  std::string_view text;
  Refine refine;
};

void add_field_violations(const grpc::Status& status, HttpError& error) {
  const StatusDetails details = decode_details(status);
  if (details.violations.empty()) {
    return;
  }
  error.body = nlohmann::json::object();
  for (const auto& violation : details.violations) {
    // DRF's name for errors that belong to no single field.
    const std::string field = violation.field.empty() ? "non_field_errors" : http_field_name(violation.field);
    error.body[field].push_back(violation.description);
  }
}

// A call the resource's state refuses (ErrorInfo reason: an agreed event's
// slots or answers, a reopen of an open event, answers after the deadline)
// is a conflict, 409; a stale version (the
// current event as detail) is preconditions.h's 412; the rest are bad input.
void add_conflict_or_violations(const grpc::Status& status, HttpError& error) {
  const StatusDetails details = decode_details(status);
  if (details.reason == kEventAgreedReason || details.reason == kEventNotAgreedReason ||
      details.reason == kAnswersClosedReason) {
    error.status = 409;
    return;
  }
  add_field_violations(status, error);
}

void add_expiry_and_challenge(const grpc::Status& status, HttpError& error) {
  const StatusDetails details = decode_details(status);
  if (details.reason == kTokenExpiredReason) {
    auto expires = details.metadata.find("expires");
    error.body = {{"detail", "Token expired"},
                  {"expires", expires == details.metadata.end() ? "" : expires->second}};
  }
  error.headers.emplace_back("WWW-Authenticate", kWwwAuthenticate);
}

// The services' own limits say when to come back (RetryInfo); without it the
// code came from the gRPC runtime, whose text is not for callers.
void add_retry_after(const grpc::Status& status, HttpError& error) {
  const StatusDetails details = decode_details(status);
  if (!details.retry_after) {
    error.body = {{"detail", "Too many requests."}};
    return;
  }
  const auto seconds = std::max<long long>(1, details.retry_after->count());
  error.headers.emplace_back("Retry-After", std::to_string(seconds));
}

// An idempotency key sent again with another request: SPEC §3's 422 (the
// request cannot be processed as sent, whatever the state of the server).
void add_key_reuse(const grpc::Status& status, HttpError& error) {
  if (decode_details(status).reason == kIdempotencyKeyReusedReason) {
    error.status = 422;
  }
}

constexpr CodeRow kInternal{StatusCode::INTERNAL, 500, Message::kFixed, "Internal server error.", nullptr};

constexpr CodeRow kCodes[] = {
    {StatusCode::OK, 200, Message::kFixed, "", nullptr},
    {StatusCode::INVALID_ARGUMENT, 400, Message::kService, "Invalid request.", &add_field_violations},
    {StatusCode::FAILED_PRECONDITION, 400, Message::kService, "Invalid request.",
     &add_conflict_or_violations},
    {StatusCode::OUT_OF_RANGE, 400, Message::kService, "Invalid request.", &add_field_violations},
    {StatusCode::UNAUTHENTICATED, 401, Message::kService, "Authentication credentials were not provided.",
     &add_expiry_and_challenge},
    {StatusCode::PERMISSION_DENIED, 403, Message::kService,
     "You do not have permission to perform this action.", nullptr},
    {StatusCode::NOT_FOUND, 404, Message::kService, "Not found.", nullptr},
    {StatusCode::ALREADY_EXISTS, 409, Message::kService, "Conflict.", &add_key_reuse},
    {StatusCode::ABORTED, 409, Message::kService, "Conflict.", nullptr},
    {StatusCode::RESOURCE_EXHAUSTED, 429, Message::kService, "Too many requests.", &add_retry_after},
    {StatusCode::CANCELLED, 499, Message::kFixed, "Request cancelled.", nullptr},
    {StatusCode::UNIMPLEMENTED, 501, Message::kFixed, "Not implemented.", nullptr},
    {StatusCode::UNAVAILABLE, 503, Message::kFixed, "Service temporarily unavailable, try again later.",
     nullptr},
    {StatusCode::DEADLINE_EXCEEDED, 504, Message::kFixed, "The service did not answer in time.", nullptr},
    kInternal,
    {StatusCode::UNKNOWN, 500, Message::kFixed, "Internal server error.", nullptr},
    {StatusCode::DATA_LOSS, 500, Message::kFixed, "Internal server error.", nullptr},
};

const CodeRow& row_for(StatusCode code) {
  const auto row = std::find_if(std::begin(kCodes), std::end(kCodes),
                                [code](const CodeRow& candidate) { return candidate.code == code; });
  return row == std::end(kCodes) ? kInternal : *row;
}

// Proto field -> the REST API's word for it (SPEC §3 query parameters).
constexpr std::pair<std::string_view, std::string_view> kFieldNames[] = {
    {"page_size", "limit"},
    {"page_token", "after"},
};

}  // namespace

int http_status_for(StatusCode code) {
  return row_for(code).http;
}

HttpError detail_error(int status, std::string message) {
  HttpError error;
  error.status = status;
  error.body = {{"detail", std::move(message)}};
  return error;
}

HttpError field_errors(nlohmann::json by_field) {
  HttpError error;
  error.status = 400;
  error.body = std::move(by_field);
  return error;
}

std::string http_field_name(const std::string& proto_field) {
  for (const auto& [proto, http] : kFieldNames) {
    if (proto_field == proto) {
      return std::string(http);
    }
  }
  return proto_field;
}

HttpError http_error_from_status(const grpc::Status& status) {
  const CodeRow& row = status.ok() ? kInternal : row_for(status.error_code());
  const bool own_text = row.message == Message::kService && !status.error_message().empty();
  HttpError error = detail_error(row.http, own_text ? status.error_message() : std::string(row.text));
  if (row.refine != nullptr) {
    row.refine(status, error);
  }
  return error;
}

}  // namespace calndro::gateway
