#include "gateway/api/route_table.h"

#include <gtest/gtest.h>

#include "common/text/text.h"
#include "gateway/api/handlers.h"
#include "gateway/api/request_text.h"
#include "gateway/server/http_server.h"

namespace calndro::gateway {
namespace {

using Kind = RouteMatch::Kind;

TEST(Routes, FoundRoutes) {
  struct Row {
    const char* method;
    const char* path;
    Route route;
    int64_t id;
  } rows[] = {
      {"GET", "/", Route::kEvents, 0},
      {"POST", "/", Route::kEvents, 0},
      {"GET", "/7/", Route::kEvent, 7},
      {"PATCH", "/7/", Route::kEvent, 7},
      {"DELETE", "/12/", Route::kEvent, 12},
      {"POST", "/7/notify/", Route::kNotify, 7},
      {"GET", "/7/log/", Route::kLog, 7},
      {"POST", "/api-token-auth/", Route::kApiToken, 0},
      {"GET", "/openapi", Route::kOpenApi, 0},
      {"GET", "/healthz", Route::kHealth, 0},
      {"POST", "/7/agree/", Route::kAgree, 7},
      {"POST", "/7/reopen/", Route::kReopen, 7},
      {"GET", "/7/event.ics", Route::kCalendar, 7},
      {"GET", "/007/event.ics", Route::kCalendar, 7},
      {"GET", "/7/changes/", Route::kChanges, 7},
  };
  for (const auto& row : rows) {
    RouteMatch match = match_route(row.method, row.path);
    EXPECT_EQ(match.kind, Kind::kFound) << row.method << " " << row.path;
    EXPECT_EQ(match.route, row.route) << row.method << " " << row.path;
    EXPECT_EQ(match.id, row.id) << row.method << " " << row.path;
  }
}

TEST(Routes, EveryMethodARouteAllowsHasAHandler) {
  for (const char* path : {"/", "/healthz", "/readyz", "/openapi", "/api-token-auth/", "/7/", "/7/notify/",
                           "/7/log/", "/7/agree/", "/7/reopen/", "/7/event.ics", "/7/changes/"}) {
    const RouteMatch refused = match_route("PUT", path);
    ASSERT_EQ(refused.kind, Kind::kMethodNotAllowed) << path;
    for (std::string_view method : split_list(refused.allow)) {
      const RouteMatch match = match_route(method, path);
      ASSERT_EQ(match.kind, Kind::kFound) << method << " " << path;
      const HandlerSpec* spec = find_handler(match.route, method);
      ASSERT_NE(spec, nullptr) << method << " " << path;
      EXPECT_EQ(spec->method, method);
    }
  }
  EXPECT_EQ(find_handler(Route::kEvent, "PUT"), nullptr);
}

TEST(Routes, MissingSlashRedirects) {
  EXPECT_EQ(match_route("GET", "/7").kind, Kind::kRedirect);
  EXPECT_EQ(match_route("GET", "/7").redirect_path, "/7/");
  EXPECT_EQ(match_route("POST", "/7/notify").redirect_path, "/7/notify/");
  EXPECT_EQ(match_route("GET", "/7/log").redirect_path, "/7/log/");
  EXPECT_EQ(match_route("POST", "/7/agree").redirect_path, "/7/agree/");
  EXPECT_EQ(match_route("POST", "/7/reopen").redirect_path, "/7/reopen/");
  EXPECT_EQ(match_route("GET", "/7/changes").redirect_path, "/7/changes/");
  EXPECT_EQ(match_route("GET", "/x").kind, Kind::kNotFound);
}

TEST(Routes, AnyNumberRedirectsEvenOneThatCannotBeAnId) {
  const struct {
    const char* path;
    const char* target;
  } rows[] = {
      {"/0", "/0/"},     {"/0/log", "/0/log/"}, {"/0/notify", "/0/notify/"},
      {"/007", "/007/"}, {"/00", "/00/"},       {"/99999999999999999999", "/99999999999999999999/"},
  };
  for (const auto& row : rows) {
    const RouteMatch match = match_route("GET", row.path);
    EXPECT_EQ(match.kind, Kind::kRedirect) << row.path;
    EXPECT_EQ(match.redirect_path, row.target) << row.path;
  }
  EXPECT_EQ(match_route("POST", "/0/notify").kind, Kind::kRedirect);
  for (const char* path : {"/-0", "/+0", "/0x1", "/0.0", "/ 0"}) {
    EXPECT_EQ(match_route("GET", path).kind, Kind::kNotFound) << path;
  }
}

TEST(Routes, UnsupportedMethodsAre405WithAllow) {
  struct Row {
    const char* method;
    const char* path;
    const char* allow;
  } rows[] = {
      {"GET", "/7/notify/", "POST"},
      {"PUT", "/7/", "GET, PATCH, DELETE"},
      {"POST", "/7/", "GET, PATCH, DELETE"},
      {"DELETE", "/", "GET, POST"},
      {"POST", "/7/log/", "GET"},
      {"POST", "/7/event.ics", "GET"},
      {"GET", "/api-token-auth/", "POST, DELETE"},
      {"POST", "/openapi", "GET"},
      {"HEAD", "/7/", "GET, PATCH, DELETE"},
      {"GET", "/7/agree/", "POST"},
      {"PATCH", "/7/reopen/", "POST"},
  };
  for (const auto& row : rows) {
    RouteMatch match = match_route(row.method, row.path);
    EXPECT_EQ(match.kind, Kind::kMethodNotAllowed) << row.method << " " << row.path;
    EXPECT_EQ(match.allow, row.allow) << row.method << " " << row.path;
  }
}

TEST(Routes, UnknownPathsAre404) {
  for (const char* path : {"/openapi/",
                           "/0/",
                           "/0/log/",
                           "/0/notify/",
                           "/00/",
                           "/-1/",
                           "/1.5/",
                           "/abc/",
                           "/7/log/x",
                           "/7/event.ics/",
                           "/0/event.ics",
                           "/7/event.ICS",
                           "/7/event.ics/x",
                           "/7/other/",
                           "/7//",
                           "//",
                           "/7/notify/x/",
                           "/99999999999999999999/",
                           "/+7/",
                           "/ 7/",
                           "/healthz/",
                           "/api-token-auth",
                           "",
                           "x"}) {
    EXPECT_EQ(match_route("GET", path).kind, Kind::kNotFound) << path;
  }
}

TEST(Routes, ParseId) {
  EXPECT_EQ(parse_id("7"), 7);
  EXPECT_EQ(parse_id("9223372036854775807"), 9223372036854775807LL);
  EXPECT_EQ(parse_id("9223372036854775808"), 0);
  EXPECT_EQ(parse_id("0"), 0);
  EXPECT_EQ(parse_id("-3"), 0);
  EXPECT_EQ(parse_id("3a"), 0);
  EXPECT_EQ(parse_id(""), 0);
}

TEST(RequestId, SaneIds) {
  EXPECT_TRUE(sane_request_id("abc-DEF_1.2"));
  EXPECT_TRUE(sane_request_id(std::string(128, 'a')));
  EXPECT_FALSE(sane_request_id(std::string(129, 'a')));
  EXPECT_FALSE(sane_request_id(""));
  EXPECT_FALSE(sane_request_id("a b"));
  EXPECT_FALSE(sane_request_id("a\"b"));
  EXPECT_EQ(new_request_id().size(), 32u);
  EXPECT_NE(new_request_id(), new_request_id());
}

}  // namespace
}  // namespace calndro::gateway
