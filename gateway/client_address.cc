#include "gateway/client_address.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>
#include <stdexcept>

namespace calndro::gateway {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

// An address without port or brackets, as the 128-bit form (IPv4 mapped
// into ::ffff:0:0/96).
std::optional<in6_addr> parse_plain_ip(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) {
    return std::nullopt;
  }
  const std::string copy(text);
  in6_addr address{};
  in_addr v4{};
  if (::inet_pton(AF_INET, copy.c_str(), &v4) == 1) {
    address.s6_addr[10] = 0xff;
    address.s6_addr[11] = 0xff;
    std::memcpy(&address.s6_addr[12], &v4, 4);
    return address;
  }
  if (::inet_pton(AF_INET6, copy.c_str(), &address) == 1) {
    return address;
  }
  return std::nullopt;
}

// Also "a.b.c.d:port", "[v6]" and "[v6]:port" (some proxies write ports).
std::optional<in6_addr> parse_ip(std::string_view text) {
  text = trim(text);
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      return std::nullopt;
    }
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') {
      return std::nullopt;
    }
    text = text.substr(1, close - 1);
  } else if (const auto colon = text.find(':');
             colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
    text = text.substr(0, colon);
  }
  return parse_plain_ip(text);
}

bool is_mapped_v4(const in6_addr& address) {
  static const unsigned char prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(address.s6_addr, prefix, sizeof(prefix)) == 0;
}

std::string to_text(const in6_addr& address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (is_mapped_v4(address)) {
    ::inet_ntop(AF_INET, &address.s6_addr[12], text, sizeof(text));
  } else {
    ::inet_ntop(AF_INET6, &address, text, sizeof(text));
  }
  return text;
}

bool in_block(const in6_addr& address, const in6_addr& block, int prefix) {
  const int whole = prefix / 8;
  if (std::memcmp(address.s6_addr, block.s6_addr, static_cast<std::size_t>(whole)) != 0) {
    return false;
  }
  const int bits = prefix % 8;
  if (bits == 0) {
    return true;
  }
  const auto mask = static_cast<unsigned char>(0xff << (8 - bits));
  return (address.s6_addr[whole] & mask) == (block.s6_addr[whole] & mask);
}

}  // namespace

TrustedProxies TrustedProxies::parse(std::string_view list) {
  TrustedProxies proxies;
  while (!list.empty()) {
    const auto comma = list.find(',');
    const std::string_view entry = trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    if (entry.empty()) {
      continue;
    }
    const auto error = [&] {
      return std::invalid_argument("CALNDRO_TRUSTED_PROXIES: '" + std::string(entry) +
                                   "' is not an IP address or CIDR block");
    };
    std::string_view ip = entry;
    int prefix = -1;
    if (const auto slash = entry.find('/'); slash != std::string_view::npos) {
      ip = entry.substr(0, slash);
      const std::string_view bits = entry.substr(slash + 1);
      auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), prefix);
      if (ec != std::errc() || end != bits.data() + bits.size() || bits.empty()) {
        throw error();
      }
    }
    const auto address = parse_plain_ip(ip);
    if (!address) {
      throw error();
    }
    const bool v4 = is_mapped_v4(*address);
    if (prefix < 0) {
      prefix = v4 ? 32 : 128;
    }
    if (prefix > (v4 ? 32 : 128)) {
      throw error();
    }
    proxies.blocks_.push_back({*address, v4 ? prefix + 96 : prefix});
  }
  return proxies;
}

bool TrustedProxies::contains(std::string_view ip) const {
  const auto address = parse_ip(ip);
  if (!address) {
    return false;
  }
  for (const auto& block : blocks_) {
    if (in_block(*address, block.address, block.prefix)) {
      return true;
    }
  }
  return false;
}

std::optional<std::string> canonical_ip(std::string_view text) {
  const auto address = parse_ip(text);
  if (!address) {
    return std::nullopt;
  }
  return to_text(*address);
}

std::string choose_client_address(std::string_view peer_ip, const std::vector<std::string>& forwarded_for,
                                  const TrustedProxies& trusted) {
  std::string chosen = canonical_ip(peer_ip).value_or(std::string(peer_ip));
  if (!trusted.contains(chosen)) {
    return chosen;
  }
  // Right to left: each trusted hop vouches for the entry before it.
  for (auto header = forwarded_for.rbegin(); header != forwarded_for.rend(); ++header) {
    std::string_view list = *header;
    while (true) {
      const auto comma = list.rfind(',');
      const std::string_view entry =
          trim(comma == std::string_view::npos ? list : list.substr(comma + 1));
      if (!entry.empty()) {
        const auto ip = canonical_ip(entry);
        if (!ip) {
          return chosen;
        }
        chosen = *ip;
        if (!trusted.contains(chosen)) {
          return chosen;
        }
      }
      if (comma == std::string_view::npos) {
        break;
      }
      list = list.substr(0, comma);
    }
  }
  return chosen;
}

}  // namespace calndro::gateway
