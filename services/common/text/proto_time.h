#pragma once

#include <google/protobuf/duration.pb.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/time_util.h>

#include "common/text/time_format.h"

// Instants and durations to and from their protobuf messages, through
// protobuf's TimeUtil (which keeps nanos non-negative for times before 1970).
// Range and precision checks of what a caller sent are slot_from_proto's.
namespace calndro {

inline google::protobuf::Timestamp instant_to_proto(Instant instant) {
  return google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(instant.time_since_epoch().count());
}

inline Instant instant_from_proto(const google::protobuf::Timestamp& timestamp) {
  return Instant(Micros(google::protobuf::util::TimeUtil::TimestampToMicroseconds(timestamp)));
}

inline google::protobuf::Duration duration_to_proto(Micros duration) {
  return google::protobuf::util::TimeUtil::MicrosecondsToDuration(duration.count());
}

inline Micros duration_from_proto(const google::protobuf::Duration& duration) {
  return Micros(google::protobuf::util::TimeUtil::DurationToMicroseconds(duration));
}

}  // namespace calndro
