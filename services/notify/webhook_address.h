#pragma once

#include <netinet/in.h>

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/text/ip_address.h"

// Where a webhook may be delivered (SPEC §11): the URL's rules and the
// address policy that keeps a webhook from reaching the deployment's own
// network (SSRF). Registration and every delivery ask the same questions,
// delivery after its own DNS lookup, and the connection then goes to the
// address checked here, never to one the HTTP client looks up again.
namespace calndro::notify {

// What an address is, for the policy. Every IPv6 form that carries an
// IPv4 address (mapped ::ffff:a.b.c.d, compatible ::a.b.c.d, NAT64
// 64:ff9b::/96, 6to4 2002::/16) is the class of that IPv4 address.
enum class AddressClass {
  kPublic,
  kLoopback,     // 127/8, ::1
  kPrivate,      // 10/8, 172.16/12, 192.168/16, 100.64/10 (CGNAT), fc00::/7, fec0::/10, 64:ff9b:1::/48
  kLinkLocal,    // 169.254/16, fe80::/10
  kUnspecified,  // 0/8, ::
  kMulticast,    // 224/4, ff00::/8, 255.255.255.255
  kReserved,     // documentation, benchmarking, 240/4, 192.0.0/24, Teredo, discard, other ::/8
};

AddressClass classify_address(const in6_addr& address);
// "loopback", "private", ...: for the messages that refuse one.
const char* address_class_name(AddressClass kind);

// CALNDRO_WEBHOOK_ALLOW: CIDR blocks ("127.0.0.1/32", "fd00::/8"; a bare
// address is one address) whose addresses are allowed whatever their class.
class AddressAllowList {
 public:
  // Throws std::invalid_argument naming a malformed entry.
  static AddressAllowList parse(std::string_view list);

  bool contains(const in6_addr& address) const;

 private:
  std::vector<IpBlock> blocks_;
};

// A webhook URL taken apart as the HTTP client will read it (libcurl's own
// URL parser): http or https, a host, no user name or password (they would
// be stored and listed in clear), at most 2,048 characters.
struct WebhookUrl {
  std::string scheme;  // "http" or "https"
  std::string host;    // as in the URL, without IPv6 brackets
  int port = 0;        // explicit or the scheme's
};
// INVALID_ARGUMENT with a message for the caller ("url").
absl::StatusOr<WebhookUrl> parse_webhook_url(std::string_view text);

// Looks a host up (getaddrinfo; an IP literal is itself). Tests give their own.
class Resolver {
 public:
  virtual ~Resolver() = default;
  // Every address the host has (IPv4 mapped), or why none.
  virtual absl::StatusOr<std::vector<in6_addr>> resolve(const std::string& host) = 0;
};

class SystemResolver final : public Resolver {
 public:
  absl::StatusOr<std::vector<in6_addr>> resolve(const std::string& host) override;
};

// The address a delivery to `url` connects to: the first of `resolved` the
// policy permits (any class inside `allow`; otherwise, for https only, a
// public one), or FAILED_PRECONDITION saying why none is (each refused
// address with its class). http is permitted only inside `allow`.
absl::StatusOr<in6_addr> permitted_address(const WebhookUrl& url, const std::vector<in6_addr>& resolved,
                                           const AddressAllowList& allow);

// parse_webhook_url, the lookup and permitted_address in one: what
// registration and every delivery ask. INVALID_ARGUMENT for a malformed
// URL, FAILED_PRECONDITION for a host that does not resolve or resolves
// only to refused addresses.
struct Destination {
  WebhookUrl url;
  in6_addr address{};
};
absl::StatusOr<Destination> check_destination(std::string_view url, Resolver& resolver,
                                              const AddressAllowList& allow);

}  // namespace calndro::notify
