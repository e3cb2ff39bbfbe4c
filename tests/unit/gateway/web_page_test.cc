// The page behind the link in the mail: Accept negotiation, the embedded
// static files and their headers, and that serving the page calls no RPC.
#include <gtest/gtest.h>

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <regex>
#include <string>

#include "common/crypto/crypto.h"
#include "gateway/api/event_client.h"
#include "gateway/api/routes.h"
#include "gateway/web/web_assets.h"
#include "gateway/web/web_page.h"
#include "serving_gateway.h"

#include "support/cases.h"

namespace calndro::gateway {
namespace {

constexpr const char* kChrome =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,"
    "application/signed-exchange;v=b3;q=0.7";
constexpr const char* kFirefox = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
constexpr const char* kSafari = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
constexpr const char* kHttpie = "application/json, */*;q=0.5";
constexpr const char* kCurl = "*/*";

bool html(const std::string& accept) {
  return prefers_html(accept);
}

TEST(AcceptNegotiation, BrowsersGetThePage) {
  testing::expect_all(html, {kChrome, kFirefox, kSafari, "text/html", "TEXT/HTML", "text/*",
                             "text/html;level=1, application/json;q=0.5"});
}

TEST(AcceptNegotiation, EveryOtherClientKeepsJson) {
  testing::expect_none(html, {kHttpie, kCurl, "", "   ", "application/json", "application/*"});
  // A tie keeps JSON: the API is what the URL is for.
  testing::expect_none(html, {"text/html, application/json", "application/json, text/html",
                              "text/html;q=0.5, application/json;q=0.5", "text/html;q=0.4, */*;q=0.5"});
  // q=0 means "not acceptable".
  testing::expect_none(html, {"text/html;q=0", "text/html;q=0, */*;q=0.1", "image/png"});
}

TEST(AcceptNegotiation, MostSpecificRangeDecides) {
  EXPECT_DOUBLE_EQ(accept_quality("text/*;q=0.3, text/html;q=0.7, */*;q=0.5", "text", "html"), 0.7);
  EXPECT_DOUBLE_EQ(accept_quality("text/*;q=0.3, */*;q=0.5", "text", "html"), 0.3);
  EXPECT_DOUBLE_EQ(accept_quality("*/*;q=0.5", "application", "json"), 0.5);
  EXPECT_DOUBLE_EQ(accept_quality("text/html;q=0", "text", "html"), 0);
  EXPECT_DOUBLE_EQ(accept_quality("image/png", "text", "html"), 0);
  EXPECT_DOUBLE_EQ(accept_quality("", "text", "html"), 1);
  EXPECT_DOUBLE_EQ(accept_quality(kChrome, "application", "json"), 0.8);
  EXPECT_DOUBLE_EQ(accept_quality(kHttpie, "text", "html"), 0.5);
  EXPECT_DOUBLE_EQ(accept_quality("text/html ; Q=0.25", "text", "html"), 0.25);
}

TEST(AcceptNegotiation, GarbageIsHarmless) {
  testing::expect_none(html, {",", ",,,;;;", "text", "/", ";q=1", std::string(100000, ',')});
  // A malformed q-value drops its range.
  testing::expect_none(html,
                       {"text/html;q=2", "text/html;q=abc", "text/html;q=0.12345", "text/html;q=1.001"});
  EXPECT_TRUE(html("text/html;q=1.000"));
}

TEST(StaticAssets, PageIsNeverCachedAndCarriesSecurityHeaders) {
  const StaticAsset& page = page_asset();
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(page.cache_control, "no-store");
  auto headers = asset_headers(page);
  auto value = [&headers](const std::string& name) {
    for (const auto& [key, v] : headers) {
      if (key == name) {
        return v;
      }
    }
    return std::string("(missing)");
  };
  EXPECT_EQ(value("Cache-Control"), "no-store");
  EXPECT_EQ(value("Referrer-Policy"), "no-referrer");
  EXPECT_EQ(value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(
      value("Content-Security-Policy"),
      "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
      "base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
}

TEST(StaticAssets, PageRefersToVersionedAssetsOnThisHostOnly) {
  const std::string html(page_asset().body);
  const std::string css = "/static/app." + std::string(web_assets::app_css_version()) + ".css";
  const std::string js = "/static/app." + std::string(web_assets::app_js_version()) + ".js";
  EXPECT_EQ(web_assets::app_css_version().size(), 12u);
  EXPECT_NE(html.find("href=\"" + css + "\""), std::string::npos) << html;
  EXPECT_NE(html.find("src=\"" + js + "\""), std::string::npos) << html;
  // No inline script or style, nothing from another host.
  testing::expect_lacks(html, {"<script>", "<style", "style=", "http://", "https://", "//"});
  EXPECT_FALSE(std::regex_search(html, std::regex(R"(\son[a-z]+\s*=)"))) << "an inline handler";
}

TEST(StaticAssets, VersionedAssetsAreImmutablePlainNamesShortLived) {
  const std::string css = "/static/app." + std::string(web_assets::app_css_version()) + ".css";
  const std::string js = "/static/app." + std::string(web_assets::app_js_version()) + ".js";
  const StaticAsset* versioned_css = find_static_asset(css);
  const StaticAsset* versioned_js = find_static_asset(js);
  ASSERT_NE(versioned_css, nullptr);
  ASSERT_NE(versioned_js, nullptr);
  EXPECT_EQ(versioned_css->content_type, "text/css; charset=utf-8");
  EXPECT_EQ(versioned_js->content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(versioned_css->cache_control, "public, max-age=31536000, immutable");
  EXPECT_EQ(versioned_js->cache_control, "public, max-age=31536000, immutable");
  EXPECT_EQ(versioned_css->body, web_assets::app_css());
  EXPECT_EQ(versioned_js->body, web_assets::app_js());

  const StaticAsset* plain_js = find_static_asset("/static/app.js");
  ASSERT_NE(plain_js, nullptr);
  EXPECT_EQ(plain_js->cache_control, "public, max-age=300");
  EXPECT_EQ(plain_js->body, web_assets::app_js());
  for (const auto& [name, value] : asset_headers(*plain_js)) {
    EXPECT_NE(name, "Content-Security-Policy");  // page-only
  }

  EXPECT_EQ(find_static_asset("/static/"), nullptr);
  EXPECT_EQ(find_static_asset("/static/app.000000000000.js"), nullptr);
  EXPECT_EQ(find_static_asset("/static/../gateway/main.cc"), nullptr);
  EXPECT_EQ(find_static_asset("/app.js"), nullptr);
}

TEST(StaticAssets, ScriptHasNoEvalOrForeignHosts) {
  const std::string js(web_assets::app_js());
  testing::expect_contains(js, {"history.replaceState", "X-Email-Token"});
  testing::expect_lacks(js, {"eval(", "innerHTML", "http://", "https://"});
}

TEST(StaticRoutes, MatchOnlyKnownAssetsAndGet) {
  const std::string js = "/static/app." + std::string(web_assets::app_js_version()) + ".js";
  EXPECT_EQ(match_route("GET", js).kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(match_route("GET", js).route, Route::kStatic);
  EXPECT_EQ(match_route("GET", "/static/app.css").kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(match_route("POST", "/static/app.css").kind, RouteMatch::Kind::kMethodNotAllowed);
  EXPECT_EQ(match_route("POST", "/static/app.css").allow, "GET");
  EXPECT_EQ(match_route("GET", "/static/nope.js").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(match_route("GET", "/static").kind, RouteMatch::Kind::kNotFound);
}

// A service that counts the calls the gateway makes.
class CountingEventService final : public v1::EventService::Service {
 public:
  grpc::Status GetEvent(grpc::ServerContext*, const v1::GetEventRequest* request,
                        v1::Event* response) override {
    ++calls;
    response->set_id(request->id());
    response->set_title("cybes");
    response->add_parties("you@here.net");
    return grpc::Status::OK;
  }
  grpc::Status GetEventLog(grpc::ServerContext*, const v1::GetEventLogRequest* request,
                           v1::EventLog* response) override {
    ++calls;
    response->set_event_id(request->id());
    return grpc::Status::OK;
  }
  std::atomic<int> calls{0};
};

class PageRoutingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    init_crypto();
    int port = 0;
    server_ = serve_on_a_free_port(service_, port);
    ASSERT_NE(server_, nullptr);
    client_ = EventClient::connect("127.0.0.1:" + std::to_string(port), std::chrono::milliseconds(3000));
    GatewayOptions options;
    options.allowed_hosts = "calndro.test";
    router_ = std::make_unique<Router>(*client_, options);
  }
  void TearDown() override {
    router_.reset();
    client_.reset();
    server_->Shutdown();
  }

  httplib::Response get(const std::string& path, const char* accept, const std::string& query = "") {
    httplib::Request request;
    request.method = "GET";
    request.path = path;
    request.target = query.empty() ? path : path + "?" + query;
    if (!query.empty()) {
      httplib::detail::parse_query_text(query, request.params);
    }
    request.headers.emplace("Host", "calndro.test");
    if (accept != nullptr) {
      request.headers.emplace("Accept", accept);
    }
    httplib::Response response;
    EXPECT_FALSE(router_->handle(request, "", "req-1", response)) << "no stream for " << path;
    return response;
  }

  CountingEventService service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<EventClient> client_;
  std::unique_ptr<Router> router_;
};

TEST_F(PageRoutingTest, BrowsersGetThePageWithoutAnyRpc) {
  for (const char* path : {"/7/", "/7/log/"}) {
    auto response = get(path, kChrome, "et=0123456789abcdef0123456789abcdef01234567");
    EXPECT_EQ(response.status, 200) << path;
    EXPECT_EQ(response.get_header_value("Content-Type"), "text/html; charset=utf-8");
    EXPECT_EQ(response.get_header_value("Cache-Control"), "no-store");
    EXPECT_EQ(response.get_header_value("Referrer-Policy"), "no-referrer");
    EXPECT_EQ(response.get_header_value("X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(response.get_header_value("Content-Security-Policy"), std::string(kPageContentSecurityPolicy));
    EXPECT_EQ(response.get_header_value("Vary"), "Accept");
    EXPECT_EQ(response.body, std::string(page_asset().body));
  }
  // Even without a token, and even for an event that may not exist: the
  // page explains itself; nothing is looked up, so nothing is logged.
  EXPECT_EQ(get("/123456/", kFirefox).status, 200);
  EXPECT_EQ(service_.calls, 0);
}

TEST_F(PageRoutingTest, OtherClientsKeepGettingJson) {
  for (const char* accept : {kHttpie, kCurl, static_cast<const char*>(nullptr), "application/json"}) {
    auto response = get("/7/", accept);
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.get_header_value("Content-Type"), "application/json");
    EXPECT_EQ(response.get_header_value("Vary"), "Accept");
    EXPECT_NE(response.body.find("\"title\":\"cybes\""), std::string::npos) << response.body;
    auto log = get("/7/log/", accept);
    EXPECT_EQ(log.status, 200);
    EXPECT_EQ(log.get_header_value("Content-Type"), "application/json");
  }
  EXPECT_EQ(service_.calls, 8);
}

TEST_F(PageRoutingTest, OnlyEventAndLogHaveAPage) {
  EXPECT_EQ(get("/", kChrome).get_header_value("Content-Type"), "application/json");  // list: 401-ish JSON
  EXPECT_EQ(get("/7/notify/", kChrome).status, 405);
  EXPECT_EQ(get("/openapi", kChrome).get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(get("/nope/", kChrome).status, 404);
  // /7 still redirects (the query with the token is kept).
  auto redirect = get("/7", kChrome, "et=abc");
  EXPECT_EQ(redirect.status, 301);
  EXPECT_EQ(redirect.get_header_value("Location"), "/7/?et=abc");
}

TEST_F(PageRoutingTest, StaticFilesAreServedWithTypesAndCacheHeaders) {
  const std::string css = "/static/app." + std::string(web_assets::app_css_version()) + ".css";
  auto response = get(css, kChrome);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.get_header_value("Content-Type"), "text/css; charset=utf-8");
  EXPECT_EQ(response.get_header_value("Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(response.get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(response.body, std::string(web_assets::app_css()));
  auto js = get("/static/app.js", "*/*");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(js.get_header_value("Cache-Control"), "public, max-age=300");
  auto missing = get("/static/missing.js", "*/*");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(service_.calls, 0);
}

}  // namespace
}  // namespace calndro::gateway
