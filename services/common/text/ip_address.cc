#include "common/text/ip_address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <stdexcept>

#include "common/text/text.h"

namespace calndro {
namespace {

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

}  // namespace

std::optional<in6_addr> parse_ip(std::string_view text) {
  text = trim_blanks(text);
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
    text = text.substr(0, colon);  // a single colon: IPv4 with a port
  }
  return parse_plain_ip(text);
}

bool is_mapped_v4(const in6_addr& address) {
  static const unsigned char prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(address.s6_addr, prefix, sizeof(prefix)) == 0;
}

bool is_loopback(const in6_addr& address) {
  return is_mapped_v4(address) ? address.s6_addr[12] == 127 : IN6_IS_ADDR_LOOPBACK(&address);
}

std::string ip_text(const in6_addr& address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (is_mapped_v4(address)) {
    ::inet_ntop(AF_INET, &address.s6_addr[12], text, sizeof(text));
  } else {
    ::inet_ntop(AF_INET6, &address, text, sizeof(text));
  }
  return text;
}

bool IpBlock::contains(const in6_addr& candidate) const {
  const int whole = prefix / 8;
  if (std::memcmp(candidate.s6_addr, address.s6_addr, static_cast<std::size_t>(whole)) != 0) {
    return false;
  }
  const int bits = prefix % 8;
  if (bits == 0) {
    return true;
  }
  const auto mask = static_cast<unsigned char>(0xff << (8 - bits));
  return (candidate.s6_addr[whole] & mask) == (address.s6_addr[whole] & mask);
}

std::optional<IpBlock> parse_ip_block(std::string_view text) {
  std::string_view ip = text;
  int prefix = -1;
  if (const auto slash = text.find('/'); slash != std::string_view::npos) {
    ip = text.substr(0, slash);
    const std::string_view bits = text.substr(slash + 1);
    const auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), prefix);
    if (bits.empty() || ec != std::errc() || end != bits.data() + bits.size()) {
      return std::nullopt;
    }
  }
  const bool with_port = ip.find('[') != std::string_view::npos || std::count(ip.begin(), ip.end(), ':') == 1;
  const auto address = with_port ? std::nullopt : parse_ip(ip);
  if (!address) {
    return std::nullopt;
  }
  const bool v4 = is_mapped_v4(*address);
  const int width = v4 ? 32 : 128;
  if (prefix < 0) {
    prefix = width;
  }
  if (prefix > width) {
    return std::nullopt;
  }
  return IpBlock{*address, v4 ? prefix + 96 : prefix};
}

std::vector<IpBlock> parse_ip_block_list(std::string_view list, std::string_view setting) {
  std::vector<IpBlock> blocks;
  for (const std::string_view entry : split_list(list)) {
    const auto block = parse_ip_block(entry);
    if (!block) {
      throw std::invalid_argument(std::string(setting) + ": '" + std::string(entry) +
                                  "' is not an IP address or CIDR block");
    }
    blocks.push_back(*block);
  }
  return blocks;
}

}  // namespace calndro
