#include "gateway/api/request_text.h"

#include <algorithm>
#include <charconv>

#include "common/text/text.h"

namespace calndro::gateway {

namespace {

// A `charset=` parameter names UTF-8; other parameters are fine.
bool utf8_or_other_parameter(std::string_view parameter) {
  const auto equals = parameter.find('=');
  if (equals == std::string_view::npos ||
      to_lower_ascii(trim_blanks(parameter.substr(0, equals))) != "charset") {
    return true;
  }
  std::string value = to_lower_ascii(trim_blanks(parameter.substr(equals + 1)));
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    value = value.substr(1, value.size() - 2);
  }
  return value == "utf-8" || value == "utf8";
}

}  // namespace

int64_t parse_id(std::string_view text) {
  if (text.empty() || text.size() > 19) {
    return 0;
  }
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value <= 0) {
    return 0;
  }
  return value;
}

bool json_content_type(std::string_view content_type) {
  const auto semicolon = content_type.find(';');
  if (to_lower_ascii(trim_blanks(content_type.substr(0, semicolon))) != "application/json") {
    return false;
  }
  std::string_view parameters =
      semicolon == std::string_view::npos ? std::string_view() : content_type.substr(semicolon + 1);
  while (!parameters.empty()) {
    const auto next = parameters.find(';');
    if (!utf8_or_other_parameter(parameters.substr(0, next))) {
      return false;
    }
    parameters = next == std::string_view::npos ? std::string_view() : parameters.substr(next + 1);
  }
  return true;
}

bool printable_ascii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

std::string quoted_for_error(std::string_view text) {
  constexpr std::size_t kMax = 64;
  std::string out;
  for (char c : text.substr(0, kMax)) {
    out.push_back(c >= 0x20 && c <= 0x7e ? c : '?');
  }
  if (text.size() > kMax) {
    out += "...";
  }
  return out;
}

}  // namespace calndro::gateway
