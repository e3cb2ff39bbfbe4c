#pragma once

#include <compare>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "calndro/common/v1/time_slot.pb.h"
#include "common/text/time_format.h"

namespace calndro {

// A candidate time: an instant and a positive length, both in microseconds.
// Ordering is by begin, then duration (SPEC §3), and equality is exact, so
// spellings that denote the same instant compare equal.
struct Slot {
  Instant begin;
  Micros duration;
  // clang-tidy 14 takes the 0 that the defaulted <=> compares against for a
  // null pointer (later versions do not).
  // NOLINTNEXTLINE(modernize-use-nullptr)
  auto operator<=>(const Slot&) const = default;
};

// Converts and checks a wire slot: begin present, within years 1-9999 and in
// whole microseconds; duration > 0, at most kMaxSlotDuration, whole
// microseconds. A refused slot is INVALID_ARGUMENT with a sentence for the
// caller.
absl::StatusOr<Slot> slot_from_proto(const calndro::common::v1::TimeSlot& wire);
void slot_to_proto(const Slot& slot, calndro::common::v1::TimeSlot& wire);

// Sorted (begin, then duration) with duplicates folded: the canonical form
// of a slot set.
std::vector<Slot> canonical_slot_set(std::vector<Slot> slots);

}  // namespace calndro
