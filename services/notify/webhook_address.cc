#include "notify/webhook_address.h"

#include <curl/curl.h>
#include <netdb.h>

#include <charconv>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "common/text/ip_address.h"
#include "common/text/text.h"

namespace calndro::notify {
namespace {

constexpr std::size_t kMaxUrlLength = 2048;

AddressClass classify_v4(const unsigned char* a) {
  const unsigned first = a[0];
  const unsigned second = a[1];
  if (first == 0) {
    return AddressClass::kUnspecified;
  }
  if (first == 127) {
    return AddressClass::kLoopback;
  }
  if (first == 10 || (first == 172 && (second & 0xf0) == 16) || (first == 192 && second == 168) ||
      (first == 100 && (second & 0xc0) == 64)) {
    return AddressClass::kPrivate;
  }
  if (first == 169 && second == 254) {
    return AddressClass::kLinkLocal;
  }
  if (first >= 224 && first <= 239) {
    return AddressClass::kMulticast;
  }
  const bool documentation = (first == 192 && second == 0 && a[2] == 2) ||
                             (first == 198 && second == 51 && a[2] == 100) ||
                             (first == 203 && second == 0 && a[2] == 113);
  const bool special = (first == 192 && second == 0 && a[2] == 0) ||
                       (first == 192 && second == 88 && a[2] == 99) ||
                       (first == 198 && (second & 0xfe) == 18) || first >= 240;
  if (documentation || special) {
    return AddressClass::kReserved;
  }
  return AddressClass::kPublic;
}

bool starts_with_bytes(const in6_addr& address, std::initializer_list<unsigned char> prefix) {
  return std::memcmp(address.s6_addr, std::data(prefix), prefix.size()) == 0;
}

// The IPv6 forms that carry an IPv4 address, or none.
const unsigned char* embedded_v4(const in6_addr& address) {
  const unsigned char* bytes = address.s6_addr;
  static const unsigned char kZeros[12] = {};
  if (is_mapped_v4(address) || std::memcmp(bytes, kZeros, 12) == 0) {
    return bytes + 12;  // ::ffff:a.b.c.d and ::a.b.c.d (:: and ::1 are handled before)
  }
  if (starts_with_bytes(address, {0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0})) {
    return bytes + 12;  // NAT64, 64:ff9b::/96
  }
  if (starts_with_bytes(address, {0x20, 0x02})) {
    return bytes + 2;  // 6to4, 2002:a.b.c.d::/48
  }
  return nullptr;
}

AddressClass classify_v6(const in6_addr& address) {
  const unsigned char* b = address.s6_addr;
  if (IN6_IS_ADDR_UNSPECIFIED(&address)) {
    return AddressClass::kUnspecified;
  }
  if (IN6_IS_ADDR_LOOPBACK(&address)) {
    return AddressClass::kLoopback;
  }
  if (const unsigned char* v4 = embedded_v4(address)) {
    return classify_v4(v4);
  }
  if (b[0] == 0xff) {
    return AddressClass::kMulticast;
  }
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) {
    return AddressClass::kLinkLocal;
  }
  if ((b[0] & 0xfe) == 0xfc || (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) ||
      starts_with_bytes(address, {0x00, 0x64, 0xff, 0x9b, 0x00, 0x01})) {
    return AddressClass::kPrivate;  // unique local, site-local, local-use NAT64
  }
  const bool teredo = starts_with_bytes(address, {0x20, 0x01, 0x00, 0x00});
  const bool documentation = starts_with_bytes(address, {0x20, 0x01, 0x0d, 0xb8});
  const bool discard = starts_with_bytes(address, {0x01, 0x00, 0, 0, 0, 0, 0, 0});
  if (b[0] == 0 || teredo || documentation || discard) {
    return AddressClass::kReserved;
  }
  return AddressClass::kPublic;
}

using CurlUrl = std::unique_ptr<CURLU, decltype(&curl_url_cleanup)>;

// A part of `url`, or "" when it has none.
std::string url_part(CURLU* url, CURLUPart part, unsigned flags = 0) {
  char* text = nullptr;
  if (curl_url_get(url, part, &text, flags) != CURLUE_OK || text == nullptr) {
    return "";
  }
  std::string out(text);
  curl_free(text);
  return out;
}

absl::Status bad_url(const std::string& why) {
  return absl::InvalidArgumentError(why);
}

}  // namespace

AddressClass classify_address(const in6_addr& address) {
  return is_mapped_v4(address) ? classify_v4(address.s6_addr + 12) : classify_v6(address);
}

const char* address_class_name(AddressClass kind) {
  switch (kind) {
    case AddressClass::kPublic:
      return "public";
    case AddressClass::kLoopback:
      return "loopback";
    case AddressClass::kPrivate:
      return "private";
    case AddressClass::kLinkLocal:
      return "link-local";
    case AddressClass::kUnspecified:
      return "unspecified";
    case AddressClass::kMulticast:
      return "multicast";
    case AddressClass::kReserved:
      return "reserved";
  }
  return "reserved";
}

AddressAllowList AddressAllowList::parse(std::string_view list) {
  AddressAllowList allow;
  allow.blocks_ = parse_ip_block_list(list, "CALNDRO_WEBHOOK_ALLOW");
  return allow;
}

bool AddressAllowList::contains(const in6_addr& address) const {
  return std::any_of(blocks_.begin(), blocks_.end(),
                     [&](const IpBlock& block) { return block.contains(address); });
}

absl::StatusOr<WebhookUrl> parse_webhook_url(std::string_view text) {
  if (text.empty() || text.size() > kMaxUrlLength) {
    return bad_url("A URL of 1 to 2048 characters is required.");
  }
  if (std::any_of(text.begin(), text.end(),
                  [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; })) {
    return bad_url("The URL may not contain spaces or control characters.");
  }
  const CurlUrl url(curl_url(), &curl_url_cleanup);
  if (!url || curl_url_set(url.get(), CURLUPART_URL, std::string(text).c_str(), 0) != CURLUE_OK) {
    return bad_url("Not a valid URL.");
  }
  WebhookUrl out;
  out.scheme = url_part(url.get(), CURLUPART_SCHEME);
  if (out.scheme != "https" && out.scheme != "http") {
    return bad_url("The URL must be https.");
  }
  if (!url_part(url.get(), CURLUPART_USER).empty() || !url_part(url.get(), CURLUPART_PASSWORD).empty()) {
    return bad_url("The URL may not carry a user name or password (they would be stored in clear).");
  }
  if (!url_part(url.get(), CURLUPART_ZONEID).empty()) {
    return bad_url("The URL may not name an IPv6 zone.");
  }
  out.host = url_part(url.get(), CURLUPART_HOST);
  if (out.host.size() > 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  if (out.host.empty()) {
    return bad_url("The URL must name a host.");
  }
  const std::string port = url_part(url.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), out.port);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || out.port <= 0 ||
      out.port > 65535) {
    return bad_url("The URL's port is not valid.");
  }
  return out;
}

absl::StatusOr<std::vector<in6_addr>> SystemResolver::resolve(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int error = ::getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (error != 0) {
    return absl::FailedPreconditionError("The host " + host + " does not resolve (" + gai_strerror(error) +
                                         ").");
  }
  std::vector<in6_addr> addresses;
  for (const addrinfo* entry = found; entry != nullptr; entry = entry->ai_next) {
    in6_addr address{};
    if (entry->ai_family == AF_INET) {
      const auto* v4 = reinterpret_cast<const sockaddr_in*>(entry->ai_addr);
      address.s6_addr[10] = 0xff;
      address.s6_addr[11] = 0xff;
      std::memcpy(&address.s6_addr[12], &v4->sin_addr, 4);
    } else if (entry->ai_family == AF_INET6) {
      address = reinterpret_cast<const sockaddr_in6*>(entry->ai_addr)->sin6_addr;
    } else {
      continue;
    }
    addresses.push_back(address);
  }
  ::freeaddrinfo(found);
  if (addresses.empty()) {
    return absl::FailedPreconditionError("The host " + host + " has no address.");
  }
  return addresses;
}

absl::StatusOr<in6_addr> permitted_address(const WebhookUrl& url, const std::vector<in6_addr>& resolved,
                                           const AddressAllowList& allow) {
  const bool https = url.scheme == "https";
  std::string refused;
  for (const in6_addr& address : resolved) {
    const AddressClass kind = classify_address(address);
    if (allow.contains(address) || (https && kind == AddressClass::kPublic)) {
      return address;
    }
    refused += (refused.empty() ? "" : ", ") + ip_text(address) + " (" + address_class_name(kind) + ")";
  }
  if (!https) {
    return absl::FailedPreconditionError(
        "The URL must be https (http only to the addresses CALNDRO_WEBHOOK_ALLOW "
        "names); refused for " +
        url.host + ": " + refused + ".");
  }
  return absl::FailedPreconditionError("A webhook may reach public addresses only; refused for " + url.host +
                                       ": " + refused + ".");
}

absl::StatusOr<Destination> check_destination(std::string_view url, Resolver& resolver,
                                              const AddressAllowList& allow) {
  Destination destination;
  absl::StatusOr<WebhookUrl> parsed = parse_webhook_url(url);
  if (!parsed.ok()) {
    return parsed.status();
  }
  destination.url = *std::move(parsed);
  absl::StatusOr<std::vector<in6_addr>> resolved = resolver.resolve(destination.url.host);
  if (!resolved.ok()) {
    return resolved.status();
  }
  absl::StatusOr<in6_addr> address = permitted_address(destination.url, *resolved, allow);
  if (!address.ok()) {
    return address.status();
  }
  destination.address = *address;
  return destination;
}

}  // namespace calndro::notify
