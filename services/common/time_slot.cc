#include "common/time_slot.h"

#include <algorithm>

namespace calndro {
namespace {
// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z in Unix seconds.
constexpr long long kMinSeconds = -62135596800LL;
constexpr long long kMaxSeconds = 253402300799LL;
}  // namespace

std::optional<Slot> slot_from_proto(const calndro::common::v1::TimeSlot& wire, std::string& error) {
  if (!wire.has_begin()) {
    error = "begin is required.";
    return std::nullopt;
  }
  if (!wire.has_duration()) {
    error = "duration is required.";
    return std::nullopt;
  }
  const auto& begin = wire.begin();
  if (begin.seconds() < kMinSeconds || begin.seconds() > kMaxSeconds || begin.nanos() < 0 ||
      begin.nanos() > 999999999) {
    error = "begin: date-time out of range (years 1 to 9999).";
    return std::nullopt;
  }
  if (begin.nanos() % 1000 != 0) {
    error = "begin: at most microsecond precision.";
    return std::nullopt;
  }
  const auto& duration = wire.duration();
  if (duration.nanos() % 1000 != 0 || duration.nanos() < -999999999 || duration.nanos() > 999999999) {
    error = "duration: at most microsecond precision.";
    return std::nullopt;
  }
  const long long max_seconds = std::chrono::duration_cast<std::chrono::seconds>(kMaxSlotDuration).count();
  if (duration.seconds() < 0 || duration.nanos() < 0 || (duration.seconds() == 0 && duration.nanos() == 0)) {
    error = "duration: must be greater than zero.";
    return std::nullopt;
  }
  if (duration.seconds() > max_seconds || (duration.seconds() == max_seconds && duration.nanos() > 0)) {
    error = "duration: longer than 366 days.";
    return std::nullopt;
  }
  Slot slot;
  slot.begin = Instant(std::chrono::seconds(begin.seconds())) + Micros(begin.nanos() / 1000);
  slot.duration = std::chrono::seconds(duration.seconds()) + Micros(duration.nanos() / 1000);
  return slot;
}

void slot_to_proto(const Slot& slot, calndro::common::v1::TimeSlot& wire) {
  const long long begin_us = slot.begin.time_since_epoch().count();
  long long seconds = begin_us / 1000000;
  long long micros = begin_us % 1000000;
  if (micros < 0) {  // Timestamp nanos are never negative
    micros += 1000000;
    seconds -= 1;
  }
  wire.mutable_begin()->set_seconds(seconds);
  wire.mutable_begin()->set_nanos(static_cast<int>(micros * 1000));
  const long long duration_us = slot.duration.count();
  wire.mutable_duration()->set_seconds(duration_us / 1000000);
  wire.mutable_duration()->set_nanos(static_cast<int>(duration_us % 1000000 * 1000));
}

std::vector<Slot> canonical_slot_set(std::vector<Slot> slots) {
  std::sort(slots.begin(), slots.end());
  slots.erase(std::unique(slots.begin(), slots.end()), slots.end());
  return slots;
}

}  // namespace calndro
