#include "events/preconditions.h"

#include <string>

#include "absl/strings/cord.h"

namespace calndro::events {

absl::Status check_version(const std::optional<std::int64_t>& expected, const v1::Event& current) {
  if (!expected || *expected == current.version()) {
    return absl::OkStatus();
  }
  absl::Status status(absl::StatusCode::kFailedPrecondition,
                      "The event has changed: it is at version " + std::to_string(current.version()) +
                          ", not " + std::to_string(*expected) + ". Nothing was changed.");
  status.SetPayload("type.googleapis.com/" + current.GetTypeName(), absl::Cord(current.SerializeAsString()));
  return status;
}

}  // namespace calndro::events
