#include "common/text/time_slot.h"

#include <algorithm>

#include "common/text/proto_time.h"

namespace calndro {
namespace {
// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z in Unix seconds.
constexpr long long kMinTimestampSeconds = google::protobuf::util::TimeUtil::kTimestampMinSeconds;
constexpr long long kMaxTimestampSeconds = google::protobuf::util::TimeUtil::kTimestampMaxSeconds;
}  // namespace

absl::StatusOr<Slot> slot_from_proto(const calndro::common::v1::TimeSlot& wire) {
  if (!wire.has_begin()) {
    return absl::InvalidArgumentError("begin is required.");
  }
  if (!wire.has_duration()) {
    return absl::InvalidArgumentError("duration is required.");
  }
  const auto& begin = wire.begin();
  if (begin.seconds() < kMinTimestampSeconds || begin.seconds() > kMaxTimestampSeconds || begin.nanos() < 0 ||
      begin.nanos() > 999999999) {
    return absl::InvalidArgumentError("begin: date-time out of range (years 1 to 9999).");
  }
  if (begin.nanos() % 1000 != 0) {
    return absl::InvalidArgumentError("begin: at most microsecond precision.");
  }
  const auto& duration = wire.duration();
  if (duration.nanos() % 1000 != 0 || duration.nanos() < -999999999 || duration.nanos() > 999999999) {
    return absl::InvalidArgumentError("duration: at most microsecond precision.");
  }
  const long long max_seconds = std::chrono::duration_cast<std::chrono::seconds>(kMaxSlotDuration).count();
  if (duration.seconds() < 0 || duration.nanos() < 0 || (duration.seconds() == 0 && duration.nanos() == 0)) {
    return absl::InvalidArgumentError("duration: must be greater than zero.");
  }
  if (duration.seconds() > max_seconds || (duration.seconds() == max_seconds && duration.nanos() > 0)) {
    return absl::InvalidArgumentError("duration: longer than 366 days.");
  }
  return Slot{instant_from_proto(begin), duration_from_proto(duration)};
}

void slot_to_proto(const Slot& slot, calndro::common::v1::TimeSlot& wire) {
  *wire.mutable_begin() = instant_to_proto(slot.begin);
  *wire.mutable_duration() = duration_to_proto(slot.duration);
}

std::vector<Slot> canonical_slot_set(std::vector<Slot> slots) {
  std::sort(slots.begin(), slots.end());
  slots.erase(std::unique(slots.begin(), slots.end()), slots.end());
  return slots;
}

}  // namespace calndro
