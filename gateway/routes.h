#pragma once

#include <httplib.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/allowed_hosts.h"
#include "gateway/client_address.h"
#include "gateway/event_client.h"
#include "gateway/http_metrics.h"
#include "gateway/readiness.h"

// METHOD + path -> RPC (SPEC §3). match_route() is the pure routing table;
// Router runs a matched request against the event service.
namespace calndro::gateway {

enum class Route {
  kHealth,    // GET /healthz (the process is alive)
  kReady,     // GET /readyz (the services behind are SERVING)
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
  int64_t id = 0;             // for /ID/... routes
  std::string allow;          // kMethodNotAllowed: the Allow header
  std::string redirect_path;  // kRedirect: the slashed path (no query)
};

RouteMatch match_route(std::string_view method, std::string_view path);

// A positive decimal integer that fits in int64, else 0.
int64_t parse_id(std::string_view text);

// Forwarded credentials are bounded well below any gRPC metadata limit, so
// a long header is answered here (431) and never reaches the channel.
inline constexpr std::size_t kMaxAuthorizationBytes = 4096;
inline constexpr std::size_t kMaxEmailTokenBytes = 256;

struct GatewayOptions {
  // CALNDRO_PUBLIC_BASE_URL (no trailing slash); empty: "http://" + Host.
  std::string public_base_url;
  // CALNDRO_ALLOWED_HOSTS as written (common/allowed_hosts.h); the Router
  // parses it (throws std::invalid_argument when malformed).
  std::string allowed_hosts;
  // Whose X-Forwarded-For is believed (gateway/client_address.h).
  TrustedProxies trusted_proxies;
  // Answers GET /readyz; absent: /readyz is 200 whenever /healthz is.
  const ReadinessProbe* readiness = nullptr;
  // Counts every request (served on the metrics address, not here).
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

  // The base of absolute URLs for this request (its Host is allowed).
  std::string base_url(const httplib::Request& request) const;
  // The client's address as sent to the event service (x-calndro-client-addr).
  std::string client_address(const httplib::Request& request) const;

 private:
  void handle_unmeasured(const httplib::Request& request, const std::string& body,
                         const std::string& request_id, httplib::Response& response) const;
  void dispatch(const httplib::Request& request, const std::string& body, const std::string& request_id,
                httplib::Response& response) const;

  EventClient& client_;
  GatewayOptions options_;
  AllowedHosts allowed_hosts_;
};

// A Content-Type acceptable for a request body: application/json, with
// parameters, a charset only if utf-8.
bool json_content_type(std::string_view content_type);

// Writes `body` as JSON with `status`.
void send_json(httplib::Response& response, int status, const std::string& body);

}  // namespace calndro::gateway
