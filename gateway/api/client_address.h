#pragma once

#include <netinet/in.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/text/ip_address.h"

// Which address a request comes from, for the event service's login
// throttle (gRPC metadata x-calndro-client-addr) and the gateway's cap on
// connections per address. X-Forwarded-For is a client-written header: it
// is believed only as far as it was written by proxies the operator named.
namespace calndro::gateway {

// CALNDRO_TRUSTED_PROXIES: comma-separated IP addresses or CIDR blocks
// ("10.0.0.0/8", "fd00::/8"). Empty: no proxy is trusted.
class TrustedProxies {
 public:
  // Throws std::invalid_argument naming a malformed entry.
  static TrustedProxies parse(std::string_view list);

  bool contains(std::string_view ip) const;
  bool empty() const { return blocks_.empty(); }

 private:
  std::vector<IpBlock> blocks_;
};

// The canonical text of an IP address ("::ffff:1.2.3.4" and "1.2.3.4"
// are both "1.2.3.4"; IPv6 in RFC 5952 form). A port ("1.2.3.4:80",
// "[::1]:80") and IPv6 brackets are dropped. nullopt when not an address.
std::optional<std::string> canonical_ip(std::string_view text);

// The client's address: the TCP peer, unless the peer is a trusted proxy;
// then the rightmost X-Forwarded-For entry that is not itself a trusted
// proxy. `forwarded_for` holds every X-Forwarded-For header in the order
// received (each a comma-separated list). An entry that is not an address
// stops the walk: the trusted hop that reported it is used. Never returns
// text a client wrote without it parsing as an address.
std::string choose_client_address(std::string_view peer_ip, const std::vector<std::string>& forwarded_for,
                                  const TrustedProxies& trusted);

}  // namespace calndro::gateway
