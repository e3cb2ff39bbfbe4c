#include "gateway/api/preconditions.h"

#include "calndro/events/v1/events.pb.h"
#include "gateway/api/json_mapping.h"
#include "google/rpc/status.pb.h"

namespace calndro::gateway {
namespace {

std::string_view trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) {
    return {};
  }
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// etagc of RFC 9110 §8.8.3: visible ASCII but DQUOTE, and obs-text.
bool is_etag_char(unsigned char c) {
  return c == 0x21 || (c >= 0x23 && c != 0x7F);
}

// One entity-tag; false when malformed. `version` is set for a strong tag
// that is a version of ours, 1 to 18 digits.
bool read_tag(std::string_view tag, std::optional<std::int64_t>& version) {
  const bool weak = tag.substr(0, 2) == "W/";
  if (weak) {
    tag.remove_prefix(2);
  }
  if (tag.size() < 2 || tag.front() != '"' || tag.back() != '"') {
    return false;
  }
  const std::string_view opaque = tag.substr(1, tag.size() - 2);
  bool digits = !opaque.empty() && opaque.size() <= 18 && opaque.front() != '0';
  for (const char c : opaque) {
    if (!is_etag_char(static_cast<unsigned char>(c))) {
      return false;
    }
    digits = digits && c >= '0' && c <= '9';
  }
  if (digits && !weak) {
    version = std::stoll(std::string(opaque));
  }
  return true;
}

HttpError bad_if_match(const std::string& why) {
  return detail_error(400, std::string(kIfMatch) + ": " + why);
}

}  // namespace

std::string etag_of(std::int64_t version) {
  return "\"" + std::to_string(version) + "\"";
}

std::optional<HttpError> read_if_match(std::string_view value, std::optional<std::int64_t>& expected) {
  expected.reset();
  value = trimmed(value);
  if (value == "*") {
    return std::nullopt;
  }
  std::optional<std::int64_t> found;
  bool any = false;
  while (!value.empty()) {
    const auto comma = value.find(',');
    const std::string_view tag = trimmed(value.substr(0, comma));
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    if (tag.empty()) {
      continue;  // RFC 9110 §5.6.1: empty list elements do not count
    }
    std::optional<std::int64_t> version;
    if (!read_tag(tag, version)) {
      return bad_if_match("expected \"*\" or entity tags such as \"3\" (the ETag of the event).");
    }
    any = true;
    if (version && found && *found != *version) {
      return bad_if_match("give the one version the change is for.");
    }
    found = version ? version : found;
  }
  if (!any) {
    return bad_if_match("expected \"*\" or entity tags such as \"3\" (the ETag of the event).");
  }
  expected = found.value_or(0);
  return std::nullopt;
}

std::optional<HttpError> precondition_failed(const grpc::Status& status, const std::string& base) {
  if (status.error_code() != grpc::StatusCode::FAILED_PRECONDITION) {
    return std::nullopt;
  }
  google::rpc::Status envelope;
  if (status.error_details().empty() || !envelope.ParseFromString(status.error_details())) {
    return std::nullopt;
  }
  for (const auto& any : envelope.details()) {
    v1::Event current;
    if (any.UnpackTo(&current)) {
      HttpError error = detail_error(412, status.error_message());
      error.body["event"] = nlohmann::json::parse(event_body(current, base));
      error.headers.emplace_back("ETag", etag_of(current.version()));
      return error;
    }
  }
  return std::nullopt;
}

}  // namespace calndro::gateway
