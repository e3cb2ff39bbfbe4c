// match_route on arbitrary "METHOD path" input. A match is consistent: a
// redirect goes to a path that no longer redirects, a 405 lists methods that
// do match, an id comes from the path, and the metrics label is one of the
// route templates (never raw path text: label cardinality).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "gateway/api/request_text.h"
#include "gateway/api/route_table.h"

using namespace calndro::gateway;

namespace {

bool known_label(const std::string& label) {
  static const char* const kLabels[] = {"unmatched",
                                        "redirect",
                                        "/healthz",
                                        "/readyz",
                                        "/metrics",
                                        "/openapi",
                                        "/",
                                        "/{id}/",
                                        "/{id}/notify/",
                                        "/{id}/log/",
                                        "/{id}/agree/",
                                        "/{id}/reopen/",
                                        "/{id}/answers/",
                                        "/{id}/event.ics",
                                        "/{id}/changes/",
                                        "/api-token-auth/",
                                        "/log-key",
                                        "/static/",
                                        "/webhooks/",
                                        "/webhooks/{id}/",
                                        "/webhooks/{id}/deliveries/"};
  for (const char* known : kLabels) {
    if (label == known) {
      return true;
    }
  }
  return false;
}

bool has_id(Route route) {
  return route == Route::kEvent || route == Route::kNotify || route == Route::kLog ||
         route == Route::kAgree || route == Route::kReopen || route == Route::kAnswers ||
         route == Route::kCalendar || route == Route::kChanges;
}

// /webhooks/WID/...: the id is the second segment.
bool has_webhook_id(Route route) {
  return route == Route::kWebhook || route == Route::kWebhookDeliveries;
}

// A 405's Allow names methods that each match `path` to the same route and
// id; any other answer has none.
void check_allow(const RouteMatch& match, std::string_view path) {
  if (match.kind != RouteMatch::Kind::kMethodNotAllowed) {
    FUZZ_CHECK(match.allow.empty());
    return;
  }
  FUZZ_CHECK(!match.allow.empty());
  std::string_view allow = match.allow;
  while (!allow.empty()) {
    const std::size_t comma = allow.find(", ");
    const std::string_view name = allow.substr(0, comma);
    const RouteMatch allowed = match_route(name, path);
    FUZZ_CHECK(allowed.kind == RouteMatch::Kind::kFound);
    FUZZ_CHECK(allowed.route == match.route && allowed.id == match.id);
    allow = comma == std::string_view::npos ? std::string_view() : allow.substr(comma + 2);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t space = input.find(' ');
  const std::string_view method =
      space == std::string_view::npos ? std::string_view("GET") : input.substr(0, space);
  const std::string_view path = space == std::string_view::npos ? input : input.substr(space + 1);

  const int64_t id = parse_id(path);
  if (id != 0) {
    FUZZ_CHECK(id > 0);
    FUZZ_CHECK(parse_id(std::to_string(id)) == id);
  }

  const RouteMatch match = match_route(method, path);
  const std::string label = route_label(match);
  if (!known_label(label)) {
    std::fprintf(stderr, "label '%s'\n", label.c_str());
  }
  FUZZ_CHECK(known_label(label));
  switch (match.kind) {
    case RouteMatch::Kind::kFound:
    case RouteMatch::Kind::kMethodNotAllowed:
      if (has_id(match.route)) {
        FUZZ_CHECK(match.id > 0);
        const std::string_view rest = path.substr(1);
        FUZZ_CHECK(parse_id(rest.substr(0, rest.find('/'))) == match.id);
      } else if (has_webhook_id(match.route)) {
        FUZZ_CHECK(match.id > 0);
        const std::string_view rest = path.substr(std::string_view("/webhooks/").size());
        FUZZ_CHECK(parse_id(rest.substr(0, rest.find('/'))) == match.id);
      } else {
        FUZZ_CHECK(match.id == 0);
      }
      break;
    case RouteMatch::Kind::kRedirect: {
      FUZZ_CHECK(match.redirect_path == std::string(path) + "/");
      const RouteMatch again = match_route(method, match.redirect_path);
      FUZZ_CHECK(again.kind != RouteMatch::Kind::kRedirect);
      // Any number redirects; its target is 404 only when it cannot be an id.
      if (again.kind == RouteMatch::Kind::kNotFound) {
        const std::string_view rest = path.substr(1);
        FUZZ_CHECK(parse_id(rest.substr(0, rest.find('/'))) == 0);
      }
      break;
    }
    case RouteMatch::Kind::kNotFound:
      break;
  }
  check_allow(match, path);
  return 0;
}
