#pragma once

#include <httplib.h>

#include <optional>
#include <string>
#include <string_view>

// What a page of another site may make a browser do here (SPEC §3). A
// browser attaches its cached Basic credentials to a cross-site form post
// or <img>, so the gateway tells such requests apart by what browsers say
// about them: Fetch Metadata (Sec-Fetch-Site, -Mode, -Dest) and, from
// browsers older than Fetch Metadata, Origin. Clients that are not browsers
// (httpie, curl, proxies) send neither and are not affected.
namespace calndro::gateway {

// The headers the rule reads, as the request sent them (nullopt or empty:
// absent).
struct RequestSource {
  std::string_view method;
  std::optional<std::string_view> fetch_site;  // Sec-Fetch-Site
  std::string_view fetch_mode;                 // Sec-Fetch-Mode
  std::string_view fetch_dest;                 // Sec-Fetch-Dest
  std::optional<std::string_view> origin;      // Origin
  std::string_view host;                       // Host
};

// Writes (every method but GET, HEAD and OPTIONS) are always guarded. A read
// is guarded when it runs with the caller's credentials: GET /ID/ and
// GET /ID/event.ics log a VIEW in the caller's name, so an <img> of another
// site must not make one. Such a read from another site passes only as a
// top-level navigation (a click on a link, the mail link opened from a
// webmail), which shows the user where they went.
enum class ReadGuard {
  kOpen,          // probes, /openapi, the page's static files: anyone may read them
  kCredentialed,  // reads with the caller's credentials: from elsewhere only as a navigation
};

// The source of `request` (its headers stay owned by `request`).
RequestSource request_source(const httplib::Request& request);

// The detail of the 403 when `source` must be refused; nullopt when it may
// pass. Go 1.25's http.CrossOriginProtection rule for writes: refused when
// Sec-Fetch-Site is anything but same-origin or none, or, without
// Sec-Fetch-Site, when Origin is present and its host and port differ from
// Host (Origin: null included).
std::optional<std::string> cross_origin_refusal(const RequestSource& source, ReadGuard guard);

}  // namespace calndro::gateway
