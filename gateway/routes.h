#pragma once

#include <httplib.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "gateway/event_client.h"
#include "gateway/http_metrics.h"
#include "gateway/readiness.h"

// METHOD + path -> RPC (SPEC §3). match_route() is the pure routing table;
// Router runs a matched request against the event service.
namespace calndro::gateway {

enum class Route {
  kHealth,    // GET /healthz (the process is alive)
  kReady,     // GET /readyz (the services behind are SERVING)
  kMetrics,   // GET /metrics (Prometheus text)
  kOpenApi,   // GET /openapi
  kEvents,    // GET, POST /
  kEvent,     // GET, PATCH, DELETE /ID/
  kNotify,    // POST /ID/notify/
  kLog,       // GET /ID/log/
  kApiToken,  // POST (mint) and DELETE (revoke) /api-token-auth/
  kStatic,    // GET /static/NAME (the page's assets; see web_page.h)
};

struct RouteMatch {
  enum class Kind { kFound, kRedirect, kNotFound, kMethodNotAllowed };
  Kind kind = Kind::kNotFound;
  Route route = Route::kEvents;
  int64_t id = 0;              // for /ID/... routes
  std::string allow;           // kMethodNotAllowed: the Allow header
  std::string redirect_path;   // kRedirect: the slashed path (no query)
};

RouteMatch match_route(std::string_view method, std::string_view path);

// A positive decimal integer that fits in int64, else 0.
int64_t parse_id(std::string_view text);

struct GatewayOptions {
  // CALNDRO_PUBLIC_BASE_URL (no trailing slash); empty: "http://" + Host.
  std::string public_base_url;
  // Answers GET /readyz; absent: /readyz is 200 whenever /healthz is.
  const ReadinessProbe* readiness = nullptr;
  // Serves GET /metrics and counts every request; absent: /metrics is 404.
  Metrics* metrics = nullptr;
  HttpMetrics* http_metrics = nullptr;
};

// The route template of a request for metrics labels ("/{id}/log/");
// "unmatched" for 404s, so raw paths never become label values.
std::string route_label(const RouteMatch& match);

class Router {
 public:
  Router(EventClient& client, GatewayOptions options);

  // Handles one request. `body` is the request body (the server reads it
  // for GET too); `request_id` is forwarded as x-request-id. Never throws.
  void handle(const httplib::Request& request, const std::string& body, const std::string& request_id,
              httplib::Response& response) const;

  // The base of absolute URLs for this request.
  std::string base_url(const httplib::Request& request) const;

 private:
  void handle_unmeasured(const httplib::Request& request, const std::string& body, const std::string& request_id,
                         httplib::Response& response) const;
  void dispatch(const httplib::Request& request, const std::string& body, const std::string& request_id,
                httplib::Response& response) const;

  EventClient& client_;
  GatewayOptions options_;
};

// Writes `body` as JSON with `status`.
void send_json(httplib::Response& response, int status, const std::string& body);

}  // namespace calndro::gateway
