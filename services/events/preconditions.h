#pragma once

#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "calndro/events/v1/events.pb.h"

// SPEC §3 "Versions and preconditions" on the service side: a write that
// names the version it expects applies only while the event has it.
namespace calndro::events {

// OK when `expected` is absent or equals `current.version()`; else
// FAILED_PRECONDITION whose detail is `current`, so that a caller learns
// the event as it is now without another call (and without a VIEW entry).
absl::Status check_version(const std::optional<std::int64_t>& expected, const v1::Event& current);

// The expected version of a request's optional field.
template <typename Request>
std::optional<std::int64_t> expected_version_of(const Request& request) {
  if (!request.has_expected_version()) {
    return std::nullopt;
  }
  return request.expected_version();
}

}  // namespace calndro::events
