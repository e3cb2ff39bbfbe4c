#pragma once

#include <httplib.h>

#include <optional>
#include <string>

#include "gateway/api/event_client.h"
#include "gateway/api/http_errors.h"

// SPEC §3 "Idempotency" at the HTTP edge: the Idempotency-Key header becomes
// the request's request_id; a replayed answer carries Idempotent-Replayed.
// (The service keeps the records: services/events/idempotency.h.)
namespace calndro::gateway {

inline constexpr const char* kIdempotencyKey = "Idempotency-Key";
inline constexpr const char* kIdempotentReplayed = "Idempotent-Replayed";

// The request's Idempotency-Key in `key` ("" when there is none); a 400
// naming the header when it is not 1 to 255 visible ASCII characters or
// comes more than once.
std::optional<HttpError> read_idempotency_key(const httplib::Request& request, std::string& key);

// Idempotent-Replayed: true on the answer when the service replayed it.
void mark_replayed(httplib::Response& response, const CallInfo& info);

}  // namespace calndro::gateway
