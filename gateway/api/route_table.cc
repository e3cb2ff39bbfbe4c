#include "gateway/api/route_table.h"

#include <algorithm>
#include <vector>

#include "common/text/text.h"
#include "gateway/api/request_text.h"
#include "gateway/web/web_page.h"

namespace calndro::gateway {

namespace {

// A pattern's segments are literals, "{id}" (an event id) or "{asset}" (a
// file web_page.h serves); `allow` lists the methods as the Allow header does.
struct RouteSpec {
  std::string_view pattern;
  Route route;
  std::string_view allow;
  std::string_view label;
};

constexpr RouteSpec kRoutes[] = {
    {"/", Route::kEvents, "GET, POST", "/"},
    {"/healthz", Route::kHealth, "GET", "/healthz"},
    {"/readyz", Route::kReady, "GET", "/readyz"},
    {"/openapi", Route::kOpenApi, "GET", "/openapi"},
    {"/api-token-auth/", Route::kApiToken, "POST, DELETE", "/api-token-auth/"},
    {"/log-key", Route::kLogKey, "GET", "/log-key"},
    {"/static/{asset}", Route::kStatic, "GET", "/static/"},
    {"/webhooks/", Route::kWebhooks, "GET, POST", "/webhooks/"},
    {"/webhooks/{id}/", Route::kWebhook, "DELETE", "/webhooks/{id}/"},
    {"/webhooks/{id}/deliveries/", Route::kWebhookDeliveries, "GET", "/webhooks/{id}/deliveries/"},
    {"/{id}/", Route::kEvent, "GET, PATCH, DELETE", "/{id}/"},
    {"/{id}/notify/", Route::kNotify, "POST", "/{id}/notify/"},
    {"/{id}/log/", Route::kLog, "GET", "/{id}/log/"},
    {"/{id}/agree/", Route::kAgree, "POST", "/{id}/agree/"},
    {"/{id}/reopen/", Route::kReopen, "POST", "/{id}/reopen/"},
    {"/{id}/answers/", Route::kAnswers, "PUT", "/{id}/answers/"},
    {"/{id}/event.ics", Route::kCalendar, "GET", "/{id}/event.ics"},
    {"/{id}/changes/", Route::kChanges, "GET", "/{id}/changes/"},
};

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t end = text.find(separator, start);
    if (end == std::string_view::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
}

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// How an "{id}" segment is read: as an id to serve, or (for the missing-slash
// redirect) as any run of digits, 0 too, so that the redirect depends on the
// spelling only and its target answers 404 for a number that cannot be an id.
enum class IdSpelling { kEventId, kAnyNumber };

// Whether `path` fits `spec`; sets `id` for an "{id}" segment.
bool fits(const RouteSpec& spec, std::string_view path, IdSpelling spelling, int64_t& id) {
  if (path.empty() || path.front() != '/') {
    return false;
  }
  const auto want = split(spec.pattern.substr(1), '/');
  const auto have = split(path.substr(1), '/');
  if (want.size() != have.size()) {
    return false;
  }
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (want[i] == "{id}") {
      id = parse_id(have[i]);
      if (spelling == IdSpelling::kEventId ? id == 0 : !all_digits(have[i])) {
        return false;
      }
    } else if (want[i] == "{asset}") {
      if (find_static_asset(path) == nullptr) {
        return false;
      }
    } else if (want[i] != have[i]) {
      return false;
    }
  }
  return true;
}

bool takes(std::string_view allow, std::string_view method) {
  const auto names = split_list(allow);
  return std::find(names.begin(), names.end(), method) != names.end();
}

}  // namespace

RouteMatch match_route(std::string_view method, std::string_view path) {
  RouteMatch match;
  for (const RouteSpec& spec : kRoutes) {
    int64_t id = 0;
    if (fits(spec, path, IdSpelling::kEventId, id)) {
      match.id = id;
      match.route = spec.route;
      match.kind = takes(spec.allow, method) ? RouteMatch::Kind::kFound : RouteMatch::Kind::kMethodNotAllowed;
      if (match.kind == RouteMatch::Kind::kMethodNotAllowed) {
        match.allow = spec.allow;
      }
      return match;
    }
  }
  const std::string slashed = std::string(path) + "/";
  for (const RouteSpec& spec : kRoutes) {
    int64_t ignored = 0;
    if (spec.pattern.starts_with("/{id}/") && !path.ends_with('/') &&
        fits(spec, slashed, IdSpelling::kAnyNumber, ignored)) {
      match.kind = RouteMatch::Kind::kRedirect;
      match.redirect_path = slashed;
      return match;
    }
  }
  return RouteMatch{};
}

std::string route_label(const RouteMatch& match) {
  if (match.kind == RouteMatch::Kind::kNotFound) {
    return "unmatched";
  }
  if (match.kind == RouteMatch::Kind::kRedirect) {
    return "redirect";
  }
  const auto spec = std::find_if(std::begin(kRoutes), std::end(kRoutes),
                                 [&match](const RouteSpec& row) { return row.route == match.route; });
  return spec == std::end(kRoutes) ? "unmatched" : std::string(spec->label);
}

}  // namespace calndro::gateway
