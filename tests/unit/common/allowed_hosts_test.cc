#include "common/text/allowed_hosts.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "support/cases.h"

namespace calndro {
namespace {

auto allows(const AllowedHosts& hosts) {
  return [&hosts](const std::string& host) { return hosts.allows(host); };
}

TEST(AllowedHosts, DefaultsAreTheLoopbackNames) {
  const auto hosts = AllowedHosts::parse("", "");
  testing::expect_all(allows(hosts),
                      {"localhost", "localhost:9000", "LOCALHOST.:9000", "127.0.0.1:9000", "[::1]:9000"});
  testing::expect_none(allows(hosts), {"evil.example", "localhost.evil.example", "", "localhost:90a",
                                       "local host", "localhost/x"});
  EXPECT_FALSE(hosts.allows_any());
}

TEST(AllowedHosts, PublicBaseUrlHostIsAlwaysAllowed) {
  const auto hosts = AllowedHosts::parse("", "https://Cal.Example.org:8443/");
  testing::expect_all(allows(hosts), {"cal.example.org", "cal.example.org:443", "localhost"});
  testing::expect_none(allows(hosts), {"example.org"});
  const auto only = AllowedHosts::parse("api.example.org", "https://cal.example.org");
  testing::expect_all(allows(only), {"cal.example.org", "api.example.org"});
  testing::expect_none(allows(only), {"localhost"});
}

TEST(AllowedHosts, StarAndSubdomainEntries) {
  EXPECT_TRUE(AllowedHosts::parse("*", "").allows("anything.example:1"));
  EXPECT_FALSE(AllowedHosts::parse("*", "").allows("bad host"));
  const auto hosts = AllowedHosts::parse(" .example.org , 10.0.0.7", "");
  testing::expect_all(allows(hosts), {"example.org", "a.b.example.org:9000", "10.0.0.7:9000"});
  testing::expect_none(allows(hosts), {"badexample.org", "10.0.0.8"});
}

TEST(AllowedHosts, MalformedConfigurationFailsFast) {
  EXPECT_THROW(AllowedHosts::parse("http://x.example", ""), std::invalid_argument);
  EXPECT_THROW(AllowedHosts::parse("x.example:80", ""), std::invalid_argument);
  EXPECT_THROW(AllowedHosts::parse(".", ""), std::invalid_argument);
  EXPECT_THROW(AllowedHosts::parse("", "ftp://x.example"), std::invalid_argument);
  EXPECT_THROW(AllowedHosts::parse("", "http://user@x.example"), std::invalid_argument);
}

TEST(HostOf, HeaderAndUrl) {
  EXPECT_EQ(host_of_header("Example.ORG:80").value_or(""), "example.org");
  EXPECT_EQ(host_of_header("[::1]").value_or(""), "[::1]");
  EXPECT_FALSE(host_of_header("[::1").has_value());
  EXPECT_FALSE(host_of_header("[zz]").has_value());
  EXPECT_EQ(host_of_url("http://a.example:8080/x?y").value_or(""), "a.example");
  EXPECT_EQ(host_of_url("HTTPS://a.example").value_or(""), "a.example");
  EXPECT_FALSE(host_of_url("a.example").has_value());
  EXPECT_FALSE(host_of_url("http://").has_value());
}

}  // namespace
}  // namespace calndro
