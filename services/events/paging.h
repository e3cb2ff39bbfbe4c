#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "calndro/events/v1/events.pb.h"
#include "common/text/limits.h"
#include "events/authenticator.h"
#include "events/stores.h"

// Paging of ListEvents and GetEventLog: the cursor a caller sends (a page
// token is the id the next page starts after) and the page it gets back.
namespace calndro::events {

struct PageRequest {
  std::int64_t after = 0;
  int limit = limits::kDefaultPageSize;
};

// INVALID_ARGUMENT naming page_size or page_token when either is not one
// this service hands out; page_size 0 asks for the default.
absl::StatusOr<PageRequest> read_page_request(int page_size, const std::string& page_token);

// A page of events for the wire. A page of long events (100 parties of
// 254-character addresses) can outgrow a gRPC message: it ends early, under
// kMaxListPageBytes, and the cursor continues after its last event.
// Each event as `viewer` sees it (event_to_proto()).
void event_page_to_proto(const Page<EventRecord>& page, const Caller& viewer,
                         v1::ListEventsResponse& response);

}  // namespace calndro::events
