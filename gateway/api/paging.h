#pragma once

#include <httplib.h>

#include <cstdint>
#include <optional>
#include <string>

#include "gateway/api/http_errors.h"

// ?limit=N&after=CURSOR <-> the RPCs' page_size/page_token, and the Link
// header that carries the next page's cursor. The gateway checks the
// spelling; the event service the range and the cursor's meaning.
namespace calndro::gateway {

inline constexpr int kDefaultPageSize = 100;
inline constexpr std::size_t kMaxCursorLength = 1024;

struct Paging {
  int32_t page_size = 0;  // 0: the service's default
  std::string page_token;
  int link_limit = kDefaultPageSize;
};

// The paging a request asks for; a 400 naming `limit`/`after` when malformed.
std::optional<HttpError> read_paging(const httplib::Request& request, Paging& paging);

// Link: <base+path?limit=N&after=TOKEN>; rel="next", unless `next_token` is empty.
void add_next_link(httplib::Response& response, const std::string& base, const std::string& path,
                   const Paging& paging, const std::string& next_token);

std::string percent_encode(std::string_view text);

}  // namespace calndro::gateway
