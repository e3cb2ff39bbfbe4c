#pragma once

#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "events/access_policy.h"
#include "events/authenticator.h"
#include "events/stores.h"

// The checks the event service's RPCs share, and the words of their refusals.
namespace calndro::events {

inline constexpr char kNotFound[] = "Not found.";
inline constexpr char kForbidden[] = "You do not have permission to perform this action.";

// PERMISSION_DENIED unless `caller` may take `action`, one that concerns no
// event (kList, kCreate).
absl::Status require_allowed(Action action, const Caller& caller);

// The version check of a write on `event`, loaded under its row lock; a
// stale version's detail is the event as `caller` sees it.
absl::Status check_event_version(const std::optional<std::int64_t>& expected, const EventRecord& event,
                                 const Caller& caller);

}  // namespace calndro::events
