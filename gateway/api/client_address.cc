#include "gateway/api/client_address.h"

#include <algorithm>

#include "common/text/ip_address.h"
#include "common/text/text.h"

namespace calndro::gateway {

TrustedProxies TrustedProxies::parse(std::string_view list) {
  TrustedProxies proxies;
  proxies.blocks_ = parse_ip_block_list(list, "CALNDRO_TRUSTED_PROXIES");
  return proxies;
}

bool TrustedProxies::contains(std::string_view ip) const {
  const auto address = parse_ip(ip);
  if (!address) {
    return false;
  }
  return std::any_of(blocks_.begin(), blocks_.end(),
                     [&](const IpBlock& block) { return block.contains(*address); });
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
