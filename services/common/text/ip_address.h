#pragma once

#include <netinet/in.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

// IP addresses as the gateway, the login throttle and the SMTP policy read
// them: one 128-bit form, IPv4 mapped into ::ffff:0:0/96.
namespace calndro {

// "a.b.c.d", an IPv6 address, "a.b.c.d:port", "[v6]" or "[v6]:port",
// blanks around allowed. nullopt when it is not an address.
std::optional<in6_addr> parse_ip(std::string_view text);

bool is_mapped_v4(const in6_addr& address);
// 127.0.0.0/8 or ::1.
bool is_loopback(const in6_addr& address);
// Canonical text: IPv4 dotted, IPv6 as RFC 5952.
std::string ip_text(const in6_addr& address);

// A CIDR block in the 128-bit form: an IPv4 prefix counts 96 bits more.
struct IpBlock {
  in6_addr address{};
  int prefix = 128;

  bool contains(const in6_addr& candidate) const;
};
// "10.0.0.0/8", "fd00::/8", or one address alone (/32, /128): a list entry of
// the settings that name networks. No brackets, no port. nullopt otherwise.
std::optional<IpBlock> parse_ip_block(std::string_view text);
// A comma-separated list of such entries; throws std::invalid_argument naming
// `setting` and the first malformed entry.
std::vector<IpBlock> parse_ip_block_list(std::string_view list, std::string_view setting);

}  // namespace calndro
