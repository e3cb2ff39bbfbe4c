#include "events/event_checks.h"

#include "events/event_mapping.h"
#include "events/preconditions.h"

namespace calndro::events {

absl::Status require_allowed(Action action, const Caller& caller) {
  if (decide(action, caller.relation_to(nullptr)) != Decision::kAllow) {
    return absl::PermissionDeniedError(kForbidden);
  }
  return absl::OkStatus();
}

absl::Status check_event_version(const std::optional<std::int64_t>& expected, const EventRecord& event,
                                 const Caller& caller) {
  if (!expected) {
    return absl::OkStatus();
  }
  v1::Event current;
  event_to_proto(event, caller, current);
  return check_version(expected, current);
}

}  // namespace calndro::events
