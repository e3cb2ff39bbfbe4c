#include "gateway/api/credentials.h"

#include <string>

#include "gateway/api/json_mapping.h"
#include "gateway/api/request_text.h"

namespace calndro::gateway {

namespace {

HttpError too_large(const char* header, std::size_t limit) {
  return detail_error(431, std::string("The ") + header + " header is too large (at most " +
                               std::to_string(limit) + " bytes).");
}

// The body's "et", removed from the document whatever its type.
std::optional<std::string> take_body_token(nlohmann::json& document, FieldErrors& errors) {
  std::optional<std::string> token;
  if (auto et = document.find("et"); et != document.end()) {
    if (et->is_string()) {
      token = et->get<std::string>();
    } else {
      errors.add("et", "Not a valid string.");
    }
    document.erase(et);
  }
  return token;
}

}  // namespace

std::optional<HttpError> read_credentials(const httplib::Request& request, nlohmann::json& document,
                                          CallMetadata& meta) {
  meta.authorization = request.get_header_value("Authorization");
  if (meta.authorization.size() > kMaxAuthorizationBytes) {
    return too_large("Authorization", kMaxAuthorizationBytes);
  }
  if (!printable_ascii(meta.authorization)) {
    return detail_error(400, "Malformed Authorization header.");
  }
  FieldErrors errors;
  const std::optional<std::string> body_token = take_body_token(document, errors);
  if (request.has_header("X-Email-Token")) {
    meta.email_token = request.get_header_value("X-Email-Token");
    if (meta.email_token.size() > kMaxEmailTokenBytes) {
      return too_large("X-Email-Token", kMaxEmailTokenBytes);
    }
  } else if (request.has_param("et")) {
    meta.email_token = request.get_param_value("et");
  } else if (body_token) {
    meta.email_token = *body_token;
  }
  if (!printable_ascii(meta.email_token) || meta.email_token.size() > kMaxEmailTokenBytes) {
    errors.add("et", "Malformed email token.");
  }
  if (!errors.empty()) {
    return field_errors(errors.to_json());
  }
  return std::nullopt;
}

}  // namespace calndro::gateway
