// The cross-origin rule (SPEC §3, gateway/api/cross_origin.h) on its own: which
// writes and which credentialed reads a page of another site may cause.
#include "gateway/api/cross_origin.h"

#include <gtest/gtest.h>

namespace calndro::gateway {
namespace {

RequestSource write_from(std::optional<std::string_view> site, std::optional<std::string_view> origin = {},
                         std::string_view method = "POST") {
  return RequestSource{.method = method, .fetch_site = site, .origin = origin, .host = "localhost:9000"};
}

RequestSource read_from(std::string_view site, std::string_view mode, std::string_view dest) {
  return RequestSource{
      .method = "GET", .fetch_site = site, .fetch_mode = mode, .fetch_dest = dest, .host = "localhost:9000"};
}

bool refused(const RequestSource& source, ReadGuard guard = ReadGuard::kCredentialed) {
  return cross_origin_refusal(source, guard).has_value();
}

TEST(CrossOrigin, WritesPassOnlyFromThisOriginOrTheUserThemselves) {
  for (std::string_view method : {"POST", "PUT", "PATCH", "DELETE", "PROPFIND"}) {
    EXPECT_FALSE(refused(write_from("same-origin", {}, method))) << method;
    EXPECT_FALSE(refused(write_from("none", {}, method))) << method;
    EXPECT_TRUE(refused(write_from("cross-site", {}, method))) << method;
    EXPECT_TRUE(refused(write_from("same-site", {}, method))) << method;
    EXPECT_TRUE(refused(write_from("Same-Origin", {}, method))) << method;
  }
}

TEST(CrossOrigin, SecFetchSiteDecidesBeforeOrigin) {
  // A browser with Fetch Metadata: its Origin is not consulted.
  EXPECT_FALSE(refused(write_from("same-origin", "http://evil.example")));
  EXPECT_TRUE(refused(write_from("cross-site", "http://localhost:9000")));
}

TEST(CrossOrigin, WithoutSecFetchSiteAnOriginMustMatchTheHost) {
  EXPECT_FALSE(refused(write_from({}, "http://localhost:9000")));
  EXPECT_FALSE(refused(write_from({}, "https://LOCALHOST:9000")));  // the scheme is not in Host
  EXPECT_TRUE(refused(write_from({}, "http://localhost:9001")));
  EXPECT_TRUE(refused(write_from({}, "http://localhost")));
  EXPECT_TRUE(refused(write_from({}, "http://evil.example")));
  EXPECT_TRUE(refused(write_from({}, "null")));  // sandboxed frames, data: URLs, some redirects
  EXPECT_TRUE(refused(write_from({}, "localhost:9000")));
  EXPECT_TRUE(refused(write_from({}, "http://user@localhost:9000")));
}

TEST(CrossOrigin, ClientsThatSayNothingAreNotAffected) {
  // httpie, curl, proxies: neither header.
  for (std::string_view method : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
    EXPECT_FALSE(refused(write_from({}, {}, method))) << method;
  }
}

TEST(CrossOrigin, SafeMethodsAlwaysPassWhenTheReadIsOpen) {
  for (std::string_view method : {"GET", "HEAD", "OPTIONS"}) {
    EXPECT_FALSE(refused(write_from("cross-site", "null", method), ReadGuard::kOpen)) << method;
  }
}

TEST(CrossOrigin, CredentialedReadsFromElsewherePassOnlyAsTopLevelNavigations) {
  // <img src=.../event.ics>, fetch(..., {credentials: 'include'}), an iframe.
  EXPECT_TRUE(refused(read_from("cross-site", "no-cors", "image")));
  EXPECT_TRUE(refused(read_from("cross-site", "cors", "empty")));
  EXPECT_TRUE(refused(read_from("same-site", "no-cors", "script")));
  EXPECT_TRUE(refused(read_from("cross-site", "navigate", "iframe")));
  EXPECT_TRUE(refused(read_from("cross-site", "nested-navigate", "")));
  // The mail link opened from a webmail; a click on a link to the calendar file.
  EXPECT_FALSE(refused(read_from("cross-site", "navigate", "document")));
  EXPECT_FALSE(refused(read_from("cross-site", "navigate", "")));
  // The page's own calls and an address typed in.
  EXPECT_FALSE(refused(read_from("same-origin", "cors", "empty")));
  EXPECT_FALSE(refused(read_from("none", "navigate", "document")));
  // An old browser's cross-origin fetch carries only Origin.
  EXPECT_TRUE(
      refused(RequestSource{.method = "GET", .origin = "http://evil.example", .host = "localhost:9000"}));
}

TEST(CrossOrigin, TheDetailNamesTheProblem) {
  const auto write = cross_origin_refusal(write_from("cross-site"), ReadGuard::kOpen);
  ASSERT_TRUE(write);
  EXPECT_EQ(write->rfind("Cross-origin request refused: Sec-Fetch-Site is 'cross-site'.", 0), 0u) << *write;
  const auto origin = cross_origin_refusal(write_from({}, "null"), ReadGuard::kOpen);
  ASSERT_TRUE(origin);
  EXPECT_NE(origin->find("Origin 'null' does not match Host 'localhost:9000'"), std::string::npos) << *origin;
  const auto read =
      cross_origin_refusal(read_from("cross-site", "no-cors", "image"), ReadGuard::kCredentialed);
  ASSERT_TRUE(read);
  EXPECT_NE(read->find("not a top-level navigation (Sec-Fetch-Mode 'no-cors', Sec-Fetch-Dest 'image')"),
            std::string::npos)
      << *read;
}

TEST(CrossOrigin, RequestSourceReadsTheHeadersTreatingEmptyAsAbsent) {
  httplib::Request request;
  request.method = "PATCH";
  request.set_header("Host", "calndro.test");
  request.set_header("Origin", "https://calndro.test");
  request.set_header("Sec-Fetch-Site", "");
  request.set_header("sec-fetch-mode", "cors");
  const RequestSource source = request_source(request);
  EXPECT_EQ(source.method, "PATCH");
  EXPECT_FALSE(source.fetch_site.has_value());
  EXPECT_EQ(source.fetch_mode, "cors");
  EXPECT_EQ(source.fetch_dest, "");
  ASSERT_TRUE(source.origin.has_value());
  EXPECT_EQ(*source.origin, "https://calndro.test");
  EXPECT_EQ(source.host, "calndro.test");
  EXPECT_FALSE(refused(source));
}

}  // namespace
}  // namespace calndro::gateway
