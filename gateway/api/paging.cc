#include "gateway/api/paging.h"

#include <limits>

#include "gateway/api/json_mapping.h"
#include "gateway/api/request_text.h"

namespace calndro::gateway {

std::optional<HttpError> read_paging(const httplib::Request& request, Paging& paging) {
  FieldErrors errors;
  if (request.has_param("limit")) {
    const int64_t value = parse_id(request.get_param_value("limit"));
    if (value <= 0 || value > std::numeric_limits<int32_t>::max()) {
      errors.add("limit", "A positive integer is required.");
    } else {
      paging.page_size = static_cast<int32_t>(value);
      paging.link_limit = static_cast<int>(value);
    }
  }
  if (request.has_param("after")) {
    paging.page_token = request.get_param_value("after");
    if (paging.page_token.size() > kMaxCursorLength || !printable_ascii(paging.page_token)) {
      errors.add("after", "Invalid cursor.");
    }
  }
  if (errors.empty()) {
    return std::nullopt;
  }
  return field_errors(errors.to_json());
}

void add_next_link(httplib::Response& response, const std::string& base, const std::string& path,
                   const Paging& paging, const std::string& next_token) {
  if (next_token.empty()) {
    return;
  }
  response.set_header("Link", "<" + base + path + "?limit=" + std::to_string(paging.link_limit) +
                                  "&after=" + percent_encode(next_token) + ">; rel=\"next\"");
}

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

}  // namespace calndro::gateway
