#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

// The page behind the link in the mail: content negotiation for
// GET /ID/ and GET /ID/log/, and the static files in gateway/web/static/,
// compiled into the binary at build time (see CMakeLists.txt).
namespace calndro::gateway {

// True when `accept` (an HTTP Accept header value) prefers text/html over
// application/json: the q-value of text/html (from its most specific matching
// media range) is above zero and strictly above that of application/json.
// Browsers send "text/html,...,*/*;q=0.8" (HTML); httpie sends
// "application/json, */*;q=0.5", curl "*/*", some clients nothing (JSON).
bool prefers_html(std::string_view accept);

// The q-value that `accept` gives to `type`/`subtype` (1 when `accept` is
// empty: no header means anything goes). 0 when nothing matches.
double accept_quality(std::string_view accept, std::string_view type, std::string_view subtype);

struct StaticAsset {
  std::string_view path;          // "/static/app.3f2a9c1b7e44.js"
  std::string_view content_type;  // with charset for text
  std::string_view cache_control;
  std::string_view body;
};

// Security headers sent with the page (and the nosniff one with every asset).
inline constexpr std::string_view kPageContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

// The page itself: text/html, Cache-Control no-store, with the security headers.
const StaticAsset& page_asset();

// The asset served at `path` (under /static/), or nullptr. Each file is served
// at a versioned path (content hash in the name; immutable, one year) and at
// its plain name (short max-age, for hand-written links).
const StaticAsset* find_static_asset(std::string_view path);

// Every header to send with `asset` (Content-Type excluded).
std::vector<std::pair<std::string, std::string>> asset_headers(const StaticAsset& asset);

}  // namespace calndro::gateway
