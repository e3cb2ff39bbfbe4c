#pragma once

#include <netinet/in.h>

#include <optional>
#include <string>
#include <string_view>

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

}  // namespace calndro
