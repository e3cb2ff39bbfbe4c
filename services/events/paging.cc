#include "events/paging.h"

#include <charconv>
#include <vector>

#include "common/grpc/grpc_channel.h"
#include "common/grpc/rich_status.h"
#include "events/event_mapping.h"

namespace calndro::events {

absl::StatusOr<PageRequest> read_page_request(int page_size, const std::string& page_token) {
  std::vector<FieldViolation> violations;
  PageRequest page;
  if (page_size < 0 || page_size > limits::kMaxPageSize) {
    violations.push_back(
        {"page_size", "Must be a whole number from 1 to " + std::to_string(limits::kMaxPageSize) + "."});
  } else if (page_size > 0) {
    page.limit = page_size;
  }
  if (!page_token.empty()) {
    const auto* end = page_token.data() + page_token.size();
    const auto [ptr, ec] = std::from_chars(page_token.data(), end, page.after);
    if (ec != std::errc() || ptr != end || page.after <= 0) {
      violations.push_back({"page_token", "Invalid page token; use the previous page's next_page_token."});
    }
  }
  if (!violations.empty()) {
    return invalid_argument(std::move(violations));
  }
  return page;
}

void event_page_to_proto(const Page<EventRecord>& page, const Caller& viewer,
                         v1::ListEventsResponse& response) {
  response.Clear();
  std::size_t bytes = 0;
  for (const auto& event : page.items) {
    v1::Event& out = *response.add_events();
    event_to_proto(event, viewer, out);
    bytes += out.ByteSizeLong() + 8;  // and the field's tag and length
    if (bytes > kMaxListPageBytes && response.events_size() > 1) {
      response.mutable_events()->RemoveLast();
      response.set_next_page_token(std::to_string(page.items[response.events_size() - 1].id));
      return;
    }
  }
  if (page.next_after) {
    response.set_next_page_token(std::to_string(*page.next_after));
  }
}

}  // namespace calndro::events
