// The address policy of webhooks (SPEC §11): every refused class, in IPv4
// and in each IPv6 form, names resolving there, the allow list, the URL
// rules.
#include <gtest/gtest.h>

#include <map>

#include "common/text/ip_address.h"
#include "notify/webhook_address.h"

namespace calndro::notify {
namespace {

in6_addr ip(const std::string& text) {
  auto address = parse_ip(text);
  if (!address) {
    throw std::invalid_argument("not an address: " + text);
  }
  return *address;
}

AddressClass kind(const std::string& text) {
  return classify_address(ip(text));
}

TEST(WebhookAddress, ClassifiesEveryRefusedIpv4Range) {
  const std::map<std::string, AddressClass> cases = {
      {"127.0.0.1", AddressClass::kLoopback},        {"127.255.255.254", AddressClass::kLoopback},
      {"10.0.0.1", AddressClass::kPrivate},          {"172.16.0.1", AddressClass::kPrivate},
      {"172.31.255.255", AddressClass::kPrivate},    {"192.168.1.1", AddressClass::kPrivate},
      {"100.64.0.1", AddressClass::kPrivate},        {"100.127.255.255", AddressClass::kPrivate},
      {"169.254.169.254", AddressClass::kLinkLocal}, {"0.0.0.0", AddressClass::kUnspecified},
      {"0.1.2.3", AddressClass::kUnspecified},       {"224.0.0.1", AddressClass::kMulticast},
      {"239.255.255.250", AddressClass::kMulticast}, {"255.255.255.255", AddressClass::kReserved},
      {"240.0.0.1", AddressClass::kReserved},        {"192.0.2.10", AddressClass::kReserved},
      {"198.18.0.1", AddressClass::kReserved},       {"192.0.0.170", AddressClass::kReserved},
  };
  for (const auto& [text, expected] : cases) {
    EXPECT_EQ(kind(text), expected) << text;
  }
}

TEST(WebhookAddress, PublicIpv4NextToTheRefusedRangesIsPublic) {
  for (const char* text : {"8.8.8.8", "172.15.255.255", "172.32.0.1", "100.63.255.255", "100.128.0.1",
                           "169.253.1.1", "11.0.0.1", "223.255.255.254", "93.184.216.34"}) {
    EXPECT_EQ(kind(text), AddressClass::kPublic) << text;
  }
}

TEST(WebhookAddress, ClassifiesEveryRefusedIpv6Range) {
  const std::map<std::string, AddressClass> cases = {
      {"::1", AddressClass::kLoopback},         {"::", AddressClass::kUnspecified},
      {"fe80::1", AddressClass::kLinkLocal},    {"febf::1", AddressClass::kLinkLocal},
      {"fc00::1", AddressClass::kPrivate},      {"fd12:3456::1", AddressClass::kPrivate},
      {"fec0::1", AddressClass::kPrivate},      {"64:ff9b:1::1", AddressClass::kPrivate},
      {"ff02::1", AddressClass::kMulticast},    {"ff0e::1", AddressClass::kMulticast},
      {"2001:db8::1", AddressClass::kReserved}, {"2001::1", AddressClass::kReserved},
      {"100::1", AddressClass::kReserved},      {"::1:0:0:1", AddressClass::kReserved},
      {"::2", AddressClass::kUnspecified},
  };
  for (const auto& [text, expected] : cases) {
    EXPECT_EQ(kind(text), expected) << text;
  }
  EXPECT_EQ(kind("2606:4700:4700::1111"), AddressClass::kPublic);
  EXPECT_EQ(kind("2a00:1450:4001::1"), AddressClass::kPublic);
}

TEST(WebhookAddress, Ipv6FormsOfAnIpv4AddressTakeItsClass) {
  // Mapped, compatible, NAT64 and 6to4 forms each carry an IPv4 address.
  EXPECT_EQ(kind("::ffff:127.0.0.1"), AddressClass::kLoopback);
  EXPECT_EQ(kind("::ffff:7f00:1"), AddressClass::kLoopback);
  EXPECT_EQ(kind("::ffff:10.1.2.3"), AddressClass::kPrivate);
  EXPECT_EQ(kind("::ffff:169.254.169.254"), AddressClass::kLinkLocal);
  EXPECT_EQ(kind("::127.0.0.1"), AddressClass::kLoopback);
  EXPECT_EQ(kind("::192.168.0.1"), AddressClass::kPrivate);
  EXPECT_EQ(kind("64:ff9b::7f00:1"), AddressClass::kLoopback);
  EXPECT_EQ(kind("64:ff9b::a9fe:a9fe"), AddressClass::kLinkLocal);
  EXPECT_EQ(kind("2002:7f00:1::1"), AddressClass::kLoopback);
  EXPECT_EQ(kind("2002:c0a8:101::1"), AddressClass::kPrivate);
  EXPECT_EQ(kind("::ffff:224.0.0.1"), AddressClass::kMulticast);
  EXPECT_EQ(kind("::ffff:8.8.8.8"), AddressClass::kPublic);
  EXPECT_EQ(kind("64:ff9b::808:808"), AddressClass::kPublic);
}

TEST(WebhookAddress, AllowListTakesCidrBlocksInEitherFamily) {
  const auto allow = AddressAllowList::parse("127.0.0.1/32, 10.1.0.0/16, fd00::/8, 192.168.7.7");
  EXPECT_TRUE(allow.contains(ip("127.0.0.1")));
  EXPECT_TRUE(allow.contains(ip("::ffff:127.0.0.1")));
  EXPECT_FALSE(allow.contains(ip("127.0.0.2")));
  EXPECT_TRUE(allow.contains(ip("10.1.200.3")));
  EXPECT_FALSE(allow.contains(ip("10.2.0.1")));
  EXPECT_TRUE(allow.contains(ip("fd99::5")));
  EXPECT_FALSE(allow.contains(ip("fe80::1")));
  EXPECT_TRUE(allow.contains(ip("192.168.7.7")));
  EXPECT_FALSE(AddressAllowList::parse("").contains(ip("127.0.0.1")));
  for (const char* bad :
       {"10.0.0.0/33", "fd00::/129", "host.example", "10.0.0.1:80", "10.0.0.0/x", "1.2.3.4/"}) {
    EXPECT_THROW(AddressAllowList::parse(bad), std::invalid_argument) << bad;
  }
}

TEST(WebhookAddress, UrlRules) {
  const auto parsed = parse_webhook_url("https://hooks.example.com/in?x=1");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->scheme, "https");
  EXPECT_EQ(parsed->host, "hooks.example.com");
  EXPECT_EQ(parsed->port, 443);
  const auto v6 = parse_webhook_url("http://[::1]:8080/x");
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 8080);
  for (const char* bad : {"", "ftp://example.com/", "file:///etc/passwd", "gopher://example.com/",
                          "https://user:pw@example.com/", "https://exa mple.com/", "not a url", "https://",
                          "https://[fe80::1%25eth0]/"}) {
    EXPECT_FALSE(parse_webhook_url(bad).ok()) << bad;
  }
  EXPECT_FALSE(parse_webhook_url("https://example.com/" + std::string(2100, 'a')).ok());
}

// A resolver with fixed answers: DNS names that resolve to refused addresses.
class FixedResolver final : public Resolver {
 public:
  std::map<std::string, std::vector<std::string>> answers;
  absl::StatusOr<std::vector<in6_addr>> resolve(const std::string& host) override {
    const auto it = answers.find(host);
    if (it == answers.end()) {
      return absl::FailedPreconditionError("The host " + host + " does not resolve.");
    }
    std::vector<in6_addr> out;
    for (const std::string& text : it->second) {
      out.push_back(ip(text));
    }
    return out;
  }
};

TEST(WebhookAddress, NamesResolvingOnlyToRefusedAddressesAreRefused) {
  FixedResolver resolver;
  resolver.answers = {{"internal.example", {"10.0.0.5", "fd00::5"}},
                      {"metadata.example", {"169.254.169.254"}},
                      {"rebind.example", {"::ffff:127.0.0.1"}},
                      {"mixed.example", {"192.168.0.9", "93.184.216.34"}},
                      {"public.example", {"93.184.216.34"}}};
  const AddressAllowList none;
  for (const char* url : {"https://internal.example/", "https://metadata.example/latest/meta-data",
                          "https://rebind.example/", "https://nowhere.example/"}) {
    const auto destination = check_destination(url, resolver, none);
    EXPECT_FALSE(destination.ok()) << url;
  }
  const auto mixed = check_destination("https://mixed.example/", resolver, none);
  ASSERT_TRUE(mixed.ok()) << mixed.status();
  EXPECT_EQ(ip_text(mixed->address), "93.184.216.34") << "only the permitted address is connected to";
  EXPECT_TRUE(check_destination("https://public.example/", resolver, none).ok());
  EXPECT_FALSE(check_destination("http://public.example/", resolver, none).ok())
      << "http needs the allow list";
}

TEST(WebhookAddress, LiteralAddressesAndLocalhostAreRefusedUnlessAllowed) {
  SystemResolver resolver;  // IP literals and /etc/hosts: no network
  const AddressAllowList none;
  for (const char* url : {"https://127.0.0.1/", "https://[::1]/", "https://localhost/", "https://0.0.0.0/",
                          "https://[::ffff:127.0.0.1]/", "https://2130706433/", "https://0x7f.1/",
                          "https://169.254.169.254/", "https://[fe80::1]/", "https://224.0.0.1/",
                          "https://[ff02::1]/", "https://10.0.0.1/", "https://[fd00::1]/"}) {
    const auto destination = check_destination(url, resolver, none);
    EXPECT_FALSE(destination.ok()) << url;
    if (!destination.ok()) {
      EXPECT_EQ(destination.status().code(), absl::StatusCode::kFailedPrecondition) << url;
    }
  }
  const auto allow = AddressAllowList::parse("127.0.0.1/32");
  const auto allowed = check_destination("http://127.0.0.1:8080/hook", resolver, allow);
  ASSERT_TRUE(allowed.ok()) << allowed.status();
  EXPECT_EQ(ip_text(allowed->address), "127.0.0.1");
  EXPECT_FALSE(check_destination("http://[::1]:8080/hook", resolver, allow).ok())
      << "::1 is not 127.0.0.1/32";
}

}  // namespace
}  // namespace calndro::notify
