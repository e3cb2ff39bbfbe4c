#pragma once

#include <cstdint>
#include <string>
#include <string_view>

// METHOD + path -> route (SPEC §3): the pure routing table, no I/O.
// routes.h runs a matched request; handlers.h answers it.
namespace calndro::gateway {

enum class Route {
  kHealth,             // GET /healthz (the process is alive)
  kReady,              // GET /readyz (the services behind are SERVING)
  kOpenApi,            // GET /openapi
  kEvents,             // GET, POST /
  kEvent,              // GET, PATCH, DELETE /ID/
  kNotify,             // POST /ID/notify/
  kLog,                // GET /ID/log/
  kAgree,              // POST /ID/agree/
  kReopen,             // POST /ID/reopen/
  kAnswers,            // PUT /ID/answers/
  kCalendar,           // GET /ID/event.ics
  kChanges,            // GET /ID/changes/ (a stream of Server-Sent Events)
  kApiToken,           // POST (mint) and DELETE (revoke) /api-token-auth/
  kLogKey,             // GET /log-key (the key that signs the log heads)
  kStatic,             // GET /static/NAME (the page's assets; see web_page.h)
  kWebhooks,           // GET, POST /webhooks/
  kWebhook,            // DELETE /webhooks/WID/
  kWebhookDeliveries,  // GET /webhooks/WID/deliveries/
};

struct RouteMatch {
  enum class Kind { kFound, kRedirect, kNotFound, kMethodNotAllowed };
  Kind kind = Kind::kNotFound;
  Route route = Route::kEvents;
  int64_t id = 0;             // for /ID/... routes
  std::string allow;          // kMethodNotAllowed: the Allow header
  std::string redirect_path;  // kRedirect: the slashed path (no query)
};

// The route of `path`; 405 (with Allow) when it does not take `method`;
// a redirect to the slashed path when an event path lacks its final slash.
RouteMatch match_route(std::string_view method, std::string_view path);

// The route template of a request for metrics labels ("/{id}/log/");
// "unmatched" for 404s, so raw paths never become label values.
std::string route_label(const RouteMatch& match);

}  // namespace calndro::gateway
