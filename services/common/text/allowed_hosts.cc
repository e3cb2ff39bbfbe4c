#include "common/text/allowed_hosts.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "common/text/text.h"

namespace calndro {
namespace {

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

bool is_ipv6_char(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
}

bool is_port(std::string_view text) {
  return !text.empty() && text.size() <= 5 &&
         std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

}  // namespace

std::optional<std::string> host_of_header(std::string_view host_header) {
  std::string_view text = trim_blanks(host_header);
  if (text.empty() || text.size() > 255) {
    return std::nullopt;
  }
  std::string_view host;
  if (text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close < 2) {
      return std::nullopt;
    }
    host = text.substr(0, close + 1);
    const std::string_view inner = text.substr(1, close - 1);
    if (!std::all_of(inner.begin(), inner.end(), is_ipv6_char)) {
      return std::nullopt;
    }
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty() && (rest.front() != ':' || !is_port(rest.substr(1)))) {
      return std::nullopt;
    }
    return to_lower_ascii(host);
  }
  const auto colon = text.find(':');
  host = text.substr(0, colon);
  if (colon != std::string_view::npos && !is_port(text.substr(colon + 1))) {
    return std::nullopt;
  }
  if (!host.empty() && host.back() == '.') {
    host.remove_suffix(1);
  }
  if (host.empty() || !std::all_of(host.begin(), host.end(), is_name_char)) {
    return std::nullopt;
  }
  return to_lower_ascii(host);
}

std::optional<std::string> host_of_url(std::string_view url) {
  std::string_view rest;
  const std::string scheme_lower = to_lower_ascii(url.substr(0, std::min<std::size_t>(url.size(), 8)));
  if (scheme_lower.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else if (scheme_lower.rfind("https://", 0) == 0) {
    rest = url.substr(8);
  } else {
    return std::nullopt;
  }
  const auto end = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, end);
  if (authority.find('@') != std::string_view::npos) {
    return std::nullopt;  // user-info has no place in a link base
  }
  return host_of_header(authority);
}

bool valid_link_base(std::string_view base) {
  if (base.size() > 2048) {
    return false;
  }
  std::string_view rest;
  if (base.starts_with("http://")) {
    rest = base.substr(7);
  } else if (base.starts_with("https://")) {
    rest = base.substr(8);
  } else {
    return false;
  }
  const std::size_t slash = rest.find('/');
  const std::string_view host = rest.substr(0, slash);
  if (host.empty() || host.front() == ':' || host.find('@') != std::string_view::npos) {
    return false;
  }
  for (unsigned char c : base) {
    if (c < 0x20 || c == 0x7f || c == ' ' || c == '?' || c == '#' || c >= 0x80 || c == '"' || c == '<' ||
        c == '>' || c == '\\') {
      return false;
    }
  }
  return true;
}

AllowedHosts AllowedHosts::parse(std::string_view list, std::string_view public_base_url) {
  AllowedHosts hosts;
  if (trim_blanks(list).empty()) {
    hosts.names_ = {"localhost", "127.0.0.1", "[::1]"};
  } else {
    for (const std::string_view entry : split_list(list)) {
      if (entry == "*") {
        hosts.any_ = true;
        continue;
      }
      const bool suffix = entry.front() == '.';
      const std::string_view name = suffix ? entry.substr(1) : entry;
      const bool has_port = !name.empty() && (name.front() == '[' ? name.back() != ']'
                                                                  : name.find(':') != std::string_view::npos);
      const auto host = host_of_header(name);
      if (!host || has_port) {
        throw std::invalid_argument("CALNDRO_ALLOWED_HOSTS: '" + std::string(entry) +
                                    "' is not a host name (no scheme, port or path)");
      }
      hosts.names_.push_back(suffix ? "." + *host : *host);
    }
  }
  if (!public_base_url.empty()) {
    const auto host = host_of_url(public_base_url);
    if (!host) {
      throw std::invalid_argument("CALNDRO_PUBLIC_BASE_URL: '" + std::string(public_base_url) +
                                  "' is not an absolute http(s) URL");
    }
    if (std::find(hosts.names_.begin(), hosts.names_.end(), *host) == hosts.names_.end()) {
      hosts.names_.push_back(*host);
    }
  }
  return hosts;
}

bool AllowedHosts::allows(std::string_view host_header) const {
  const auto host = host_of_header(host_header);
  if (!host) {
    return false;
  }
  if (any_) {
    return true;
  }
  for (const auto& name : names_) {
    if (name.front() == '.') {
      const std::string_view bare(name.data() + 1, name.size() - 1);
      if (*host == bare ||
          (host->size() > name.size() && host->compare(host->size() - name.size(), name.size(), name) == 0)) {
        return true;
      }
    } else if (*host == name) {
      return true;
    }
  }
  return false;
}

}  // namespace calndro
