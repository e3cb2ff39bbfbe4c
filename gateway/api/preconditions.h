#pragma once

#include <grpcpp/support/status.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/api/http_errors.h"

// SPEC §3 "Versions and preconditions" at the HTTP edge: the ETag of an
// event, the If-Match header of a write, and the 412 of a stale one.
namespace calndro::gateway {

inline constexpr const char* kIfMatch = "If-Match";

// `"N"`: a strong entity tag, since equal versions are the same event.
std::string etag_of(std::int64_t version);

// An If-Match value (RFC 9110 §13.1.1) as the version the write expects:
// nullopt for `*` (any current event, which a missing one answers with 404
// anyway); the version of its one strong tag `"N"`; 0, which no event has,
// when it lists only tags that cannot match (weak ones, which a strong
// comparison never matches, or tags that are not ours). A malformed value,
// or more than one version, is a 400 naming the header.
std::optional<HttpError> read_if_match(std::string_view value, std::optional<std::int64_t>& expected);

// A write refused because the event changed (FAILED_PRECONDITION with the
// current event as a detail) as 412 {"detail", "event"} with that event's
// ETag; nullopt for any other status.
std::optional<HttpError> precondition_failed(const grpc::Status& status, const std::string& base);

}  // namespace calndro::gateway
