#include "common/allowed_hosts.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace calndro {
namespace {

TEST(AllowedHosts, DefaultsAreTheLoopbackNames) {
  const auto hosts = AllowedHosts::parse("", "");
  EXPECT_TRUE(hosts.allows("localhost"));
  EXPECT_TRUE(hosts.allows("localhost:9000"));
  EXPECT_TRUE(hosts.allows("LOCALHOST.:9000"));
  EXPECT_TRUE(hosts.allows("127.0.0.1:9000"));
  EXPECT_TRUE(hosts.allows("[::1]:9000"));
  EXPECT_FALSE(hosts.allows("evil.example"));
  EXPECT_FALSE(hosts.allows("localhost.evil.example"));
  EXPECT_FALSE(hosts.allows(""));
  EXPECT_FALSE(hosts.allows("localhost:90a"));
  EXPECT_FALSE(hosts.allows("local host"));
  EXPECT_FALSE(hosts.allows("localhost/x"));
  EXPECT_FALSE(hosts.allows_any());
}

TEST(AllowedHosts, PublicBaseUrlHostIsAlwaysAllowed) {
  const auto hosts = AllowedHosts::parse("", "https://Cal.Example.org:8443/");
  EXPECT_TRUE(hosts.allows("cal.example.org"));
  EXPECT_TRUE(hosts.allows("cal.example.org:443"));
  EXPECT_TRUE(hosts.allows("localhost"));
  EXPECT_FALSE(hosts.allows("example.org"));
  const auto only = AllowedHosts::parse("api.example.org", "https://cal.example.org");
  EXPECT_TRUE(only.allows("cal.example.org"));
  EXPECT_TRUE(only.allows("api.example.org"));
  EXPECT_FALSE(only.allows("localhost"));
}

TEST(AllowedHosts, StarAndSubdomainEntries) {
  EXPECT_TRUE(AllowedHosts::parse("*", "").allows("anything.example:1"));
  EXPECT_FALSE(AllowedHosts::parse("*", "").allows("bad host"));
  const auto hosts = AllowedHosts::parse(" .example.org , 10.0.0.7", "");
  EXPECT_TRUE(hosts.allows("example.org"));
  EXPECT_TRUE(hosts.allows("a.b.example.org:9000"));
  EXPECT_FALSE(hosts.allows("badexample.org"));
  EXPECT_TRUE(hosts.allows("10.0.0.7:9000"));
  EXPECT_FALSE(hosts.allows("10.0.0.8"));
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
