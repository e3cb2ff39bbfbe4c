#include "gateway/api/cross_origin.h"

#include "common/text/text.h"
#include "gateway/api/request_text.h"

namespace calndro::gateway {

namespace {

bool safe_method(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS";
}

// A header's first value as stored in `request`; nullopt when absent or
// empty (as Go's Header.Get reads it).
std::optional<std::string_view> header(const httplib::Request& request, const char* name) {
  const auto it = request.headers.find(name);
  if (it == request.headers.end() || it->second.empty()) {
    return std::nullopt;
  }
  return std::string_view(it->second);
}

// "host[:port]" of an origin "scheme://host[:port]"; nullopt for anything
// else, "null" included.
std::optional<std::string_view> origin_authority(std::string_view origin) {
  const size_t scheme_end = origin.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) {
    return std::nullopt;
  }
  std::string_view authority = origin.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (authority.empty() || authority.find('@') != std::string_view::npos) {
    return std::nullopt;
  }
  return authority;
}

// Why the request comes from another site (for the detail); nullopt when
// it comes from this one or says nothing about where it comes from.
std::optional<std::string> from_elsewhere(const RequestSource& source) {
  if (source.fetch_site) {
    if (*source.fetch_site == "same-origin" || *source.fetch_site == "none") {
      return std::nullopt;
    }
    return "Sec-Fetch-Site is '" + quoted_for_error(*source.fetch_site) + "'";
  }
  if (!source.origin) {
    return std::nullopt;
  }
  const auto authority = origin_authority(*source.origin);
  if (authority && !source.host.empty() && to_lower_ascii(*authority) == to_lower_ascii(source.host)) {
    return std::nullopt;
  }
  return "Origin '" + quoted_for_error(*source.origin) + "' does not match Host '" +
         quoted_for_error(source.host) + "'";
}

// A click on a link or an address typed in: the whole window goes there.
// Before Sec-Fetch-Dest (Chromium 76-79) a navigation sent only the mode.
bool top_level_navigation(const RequestSource& source) {
  return source.fetch_mode == "navigate" && (source.fetch_dest.empty() || source.fetch_dest == "document");
}

}  // namespace

RequestSource request_source(const httplib::Request& request) {
  return RequestSource{
      .method = request.method,
      .fetch_site = header(request, "Sec-Fetch-Site"),
      .fetch_mode = header(request, "Sec-Fetch-Mode").value_or(""),
      .fetch_dest = header(request, "Sec-Fetch-Dest").value_or(""),
      .origin = header(request, "Origin"),
      .host = header(request, "Host").value_or(""),
  };
}

std::optional<std::string> cross_origin_refusal(const RequestSource& source, ReadGuard guard) {
  const bool write = !safe_method(source.method);
  if (!write && guard == ReadGuard::kOpen) {
    return std::nullopt;
  }
  const auto why = from_elsewhere(source);
  if (!why) {
    return std::nullopt;
  }
  if (write) {
    return "Cross-origin request refused: " + *why +
           ". A page of another site may not change anything here; use this site's own page, or a client "
           "that is not a browser.";
  }
  if (top_level_navigation(source)) {
    return std::nullopt;
  }
  return "Cross-site request refused: " + *why + " and it is not a top-level navigation (Sec-Fetch-Mode '" +
         quoted_for_error(source.fetch_mode) + "', Sec-Fetch-Dest '" + quoted_for_error(source.fetch_dest) +
         "'). A page of another site may not read an event with your credentials: it would log a view in "
         "your name. Open the link itself instead.";
}

}  // namespace calndro::gateway
