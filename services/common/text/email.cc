#include "common/text/email.h"

#include <cctype>
#include <cstring>

#include "common/text/text.h"

namespace calndro {
namespace {

bool is_local_char(char c) {
  // RFC 5322 atext; quoted local parts are not accepted.
  return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("!#$%&'*+-/=?^_`{|}~.", c) != nullptr;
}

bool valid_local_part(std::string_view local) {
  if (local.empty() || local.size() > 64 || local.front() == '.' || local.back() == '.') {
    return false;
  }
  char previous = '\0';
  for (char c : local) {
    if (c == '\0' || !is_local_char(c) || (c == '.' && previous == '.')) {
      return false;
    }
    previous = c;
  }
  return true;
}

bool valid_domain(std::string_view domain) {
  if (domain.empty() || domain.size() > 253) {
    return false;
  }
  std::size_t labels = 0;
  std::string_view last_label;
  while (true) {
    const std::size_t dot = domain.find('.');
    const std::string_view label = domain.substr(0, dot);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-')) {
        return false;
      }
    }
    ++labels;
    last_label = label;
    if (dot == std::string_view::npos) {
      break;
    }
    domain.remove_prefix(dot + 1);
  }
  bool numeric_tld = true;
  for (char c : last_label) {
    numeric_tld = numeric_tld && std::isdigit(static_cast<unsigned char>(c));
  }
  return labels >= 2 && !numeric_tld;
}

}  // namespace

absl::StatusOr<std::string> normalize_email(std::string_view text) {
  if (text.empty()) {
    return absl::InvalidArgumentError("Enter an email address.");
  }
  if (text.size() > kMaxEmailLength) {
    return absl::InvalidArgumentError("Email address is longer than 254 characters.");
  }
  const std::size_t at = text.rfind('@');
  if (at == std::string_view::npos || !valid_local_part(text.substr(0, at)) ||
      !valid_domain(text.substr(at + 1))) {
    return absl::InvalidArgumentError("Enter a valid email address.");
  }
  return to_lower_ascii(text);
}

}  // namespace calndro
