#include "common/text/grpc_target.h"

#include <cctype>
#include <charconv>

namespace calndro {
namespace {

bool valid_port(std::string_view text) {
  int port = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
  return error == std::errc() && end == text.data() + text.size() && port > 0 && port <= 65535;
}

bool is_ipv4(std::string_view host) {
  int parts = 0;
  while (true) {
    const auto dot = host.find('.');
    const std::string_view part = host.substr(0, dot);
    int value = 0;
    const auto [end, error] = std::from_chars(part.data(), part.data() + part.size(), value);
    if (part.empty() || part.size() > 3 || error != std::errc() || end != part.data() + part.size() ||
        value > 255) {
      return false;
    }
    ++parts;
    if (dot == std::string_view::npos) {
      break;
    }
    host.remove_prefix(dot + 1);
  }
  return parts == 4;
}

// "host:port" with a non-empty host (a name, an IPv4 literal or "[v6]").
bool valid_host_port(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return false;
  }
  const std::string_view host = text.substr(0, colon);
  for (char c : host) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == '[' ||
          c == ']' || c == ':')) {
      return false;
    }
  }
  return valid_port(text.substr(colon + 1));
}

}  // namespace

std::optional<std::string> grpc_target(std::string_view address, std::string& error) {
  for (std::string_view scheme : {"dns:", "ipv4:", "ipv6:", "unix:", "unix-abstract:"}) {
    if (address.rfind(scheme, 0) == 0 && address.size() > scheme.size()) {
      return std::string(address);
    }
  }
  if (address.find(',') == std::string_view::npos) {
    if (!valid_host_port(address)) {
      error =
          "expected host:port, a comma-separated list of IPv4 host:port, or a gRPC target such as "
          "dns:///events:50051; got '" +
          std::string(address) + "'";
      return std::nullopt;
    }
    return std::string(address);
  }
  std::string_view rest = address;
  while (true) {
    const auto comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    const auto colon = item.rfind(':');
    if (colon == std::string_view::npos || !is_ipv4(item.substr(0, colon)) ||
        !valid_port(item.substr(colon + 1))) {
      error =
          "a list of replicas must be IPv4 host:port items separated by commas (use dns:///NAME:PORT for "
          "names); got '" +
          std::string(address) + "'";
      return std::nullopt;
    }
    if (comma == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(comma + 1);
  }
  return "ipv4:" + std::string(address);
}

}  // namespace calndro
