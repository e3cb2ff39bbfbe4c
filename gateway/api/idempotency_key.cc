#include "gateway/api/idempotency_key.h"

#include "common/text/limits.h"
#include "common/text/text.h"

namespace calndro::gateway {

std::optional<HttpError> read_idempotency_key(const httplib::Request& request, std::string& key) {
  key.clear();
  const std::size_t count = request.get_header_value_count(kIdempotencyKey);
  if (count == 0) {
    return std::nullopt;
  }
  if (count > 1) {
    return detail_error(400, std::string(kIdempotencyKey) + ": send one key.");
  }
  const std::string value = request.get_header_value(kIdempotencyKey);
  if (!is_idempotency_key(value)) {
    return detail_error(400, std::string(kIdempotencyKey) + ": must be 1 to " +
                                 std::to_string(limits::kMaxIdempotencyKeyLength) +
                                 " visible ASCII characters (no spaces).");
  }
  key = value;
  return std::nullopt;
}

void mark_replayed(httplib::Response& response, const CallInfo& info) {
  if (info.replayed) {
    response.set_header(kIdempotentReplayed, "true");
  }
}

}  // namespace calndro::gateway
