#include "gateway/api/client_address.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <stdexcept>

#include "common/text/ip_address.h"
#include "common/text/text.h"

namespace calndro::gateway {
namespace {

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
  for (const std::string_view entry : split_list(list)) {
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
    // A proxy is named by its address alone: no brackets, no port.
    const bool with_port =
        ip.find('[') != std::string_view::npos || std::count(ip.begin(), ip.end(), ':') == 1;
    const auto address = with_port ? std::nullopt : parse_ip(ip);
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
  return ip_text(*address);
}

std::string choose_client_address(std::string_view peer_ip, const std::vector<std::string>& forwarded_for,
                                  const TrustedProxies& trusted) {
  std::string chosen = canonical_ip(peer_ip).value_or(std::string(peer_ip));
  if (!trusted.contains(chosen)) {
    return chosen;
  }
  // Right to left: each trusted hop vouches for the entry before it. The
  // range for that clang-tidy suggests needs std::views::reverse, which clang
  // 14 cannot compile with libstdc++ 12 (clang-tidy and the fuzz build).
  // NOLINTNEXTLINE(modernize-loop-convert)
  for (auto header = forwarded_for.rbegin(); header != forwarded_for.rend(); ++header) {
    std::string_view list = *header;
    while (true) {
      const auto comma = list.rfind(',');
      const std::string_view entry =
          trim_blanks(comma == std::string_view::npos ? list : list.substr(comma + 1));
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
