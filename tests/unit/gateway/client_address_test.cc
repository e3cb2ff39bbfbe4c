#include "gateway/api/client_address.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "support/cases.h"

namespace calndro::gateway {
namespace {

TEST(CanonicalIp, OneSpellingPerAddress) {
  const auto canonical = [](const std::string& address) { return canonical_ip(address); };
  testing::expect_maps(canonical, {{"1.2.3.4", "1.2.3.4"},
                                   {" ::ffff:1.2.3.4 ", "1.2.3.4"},
                                   {"1.2.3.4:8080", "1.2.3.4"},
                                   {"[2001:DB8:0::1]:443", "2001:db8::1"},
                                   {"2001:db8:0:0:0:0:0:1", "2001:db8::1"}});
  testing::expect_none(canonical, {"", "unknown", "1.2.3", "1.2.3.4.5", "<script>", "[::1", "::1]x",
                                   "1.2.3.4/8", "_hidden", "999.1.1.1"});
}

TEST(TrustedProxies, AddressesAndBlocks) {
  const auto trusted = TrustedProxies::parse(" 10.0.0.0/8, 192.168.1.7 ,fd00::/8,");
  const auto contains = [&trusted](const std::string& address) { return trusted.contains(address); };
  testing::expect_all(contains, {"10.200.3.4", "::ffff:10.1.1.1", "192.168.1.7", "fd12::1"});
  testing::expect_none(contains, {"192.168.1.8", "fe80::1", "11.0.0.1", "garbage"});
  EXPECT_TRUE(TrustedProxies::parse("").empty());
  EXPECT_TRUE(TrustedProxies::parse("0.0.0.0/0").contains("8.8.8.8"));
  EXPECT_FALSE(TrustedProxies::parse("0.0.0.0/0").contains("2001:db8::1"));
  for (const char* bad : {"10.0.0.0/33", "fd00::/129", "10.0.0.1:80", "proxy.local", "10.0.0.0/",
                          "10.0.0.0/x", "[::1]", "-1"}) {
    EXPECT_THROW(TrustedProxies::parse(bad), std::invalid_argument) << bad;
  }
}

TEST(ChooseClientAddress, ThePeerUnlessItIsATrustedProxy) {
  const auto none = TrustedProxies::parse("");
  EXPECT_EQ(choose_client_address("203.0.113.5", {"1.1.1.1"}, none), "203.0.113.5");
  EXPECT_EQ(choose_client_address("::ffff:203.0.113.5", {}, none), "203.0.113.5");
  const auto proxies = TrustedProxies::parse("10.0.0.0/8");
  // Not from a proxy: the header is the client's own text.
  EXPECT_EQ(choose_client_address("203.0.113.5", {"1.1.1.1"}, proxies), "203.0.113.5");
  // From a proxy with no header: the proxy itself.
  EXPECT_EQ(choose_client_address("10.0.0.2", {}, proxies), "10.0.0.2");
}

TEST(ChooseClientAddress, RightmostEntryNotWrittenByATrustedProxy) {
  const auto proxies = TrustedProxies::parse("10.0.0.0/8");
  // The client can put anything on the left; the proxies append on the right.
  EXPECT_EQ(choose_client_address("10.0.0.2", {"6.6.6.6, 198.51.100.7"}, proxies), "198.51.100.7");
  EXPECT_EQ(choose_client_address("10.0.0.2", {"6.6.6.6, 198.51.100.7, 10.9.9.9"}, proxies), "198.51.100.7");
  // Several headers are one list, in order.
  EXPECT_EQ(choose_client_address("10.0.0.2", {"6.6.6.6", "198.51.100.7", "10.1.1.1"}, proxies),
            "198.51.100.7");
  EXPECT_EQ(choose_client_address("10.0.0.2", {"198.51.100.7:5000"}, proxies), "198.51.100.7");
  EXPECT_EQ(choose_client_address("10.0.0.2", {"[2001:db8::7]:5000"}, proxies), "2001:db8::7");
  // Every hop a proxy: the leftmost one.
  EXPECT_EQ(choose_client_address("10.0.0.2", {"10.0.0.9, 10.0.0.3"}, proxies), "10.0.0.9");
  // Garbage where an address should be: the hop that reported it.
  EXPECT_EQ(choose_client_address("10.0.0.2", {"1.1.1.1, <script>, 10.0.0.3"}, proxies), "10.0.0.3");
  EXPECT_EQ(choose_client_address("10.0.0.2", {"unknown"}, proxies), "10.0.0.2");
  EXPECT_EQ(choose_client_address("10.0.0.2", {" , "}, proxies), "10.0.0.2");
}

}  // namespace
}  // namespace calndro::gateway
