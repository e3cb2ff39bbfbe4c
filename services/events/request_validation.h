#pragma once

#include <google/protobuf/duration.pb.h>
#include <google/protobuf/repeated_field.h>
#include <google/protobuf/timestamp.pb.h>

#include <string>
#include <vector>

#include "calndro/common/v1/time_slot.pb.h"
#include "common/grpc/rich_status.h"
#include "common/text/time_slot.h"

// Checks of SPEC §3, §4 and §7 that the event service applies to every
// caller, REST or direct gRPC. Each collects field violations instead of
// stopping at the first, so one 400 names every problem.
namespace calndro::events {

// Whether a list may be empty.
enum class Presence { kRequired, kOptional };

// Canonical emails, duplicates folded, first mention first.
std::vector<std::string> validate_parties(const google::protobuf::RepeatedPtrField<std::string>& parties,
                                          std::vector<FieldViolation>& violations, Presence presence);

// Canonical slot set (sorted, duplicates folded).
std::vector<Slot> validate_slots(
    const google::protobuf::RepeatedPtrField<calndro::common::v1::TimeSlot>& slots,
    std::vector<FieldViolation>& violations);

// The title without leading and trailing spaces; empty stays empty (the
// caller decides what that means). Refuses (one violation naming `title`)
// bytes that are not UTF-8, control characters (C0, DEL, C1, U+2028,
// U+2029) and bidirectional overrides and isolates, anywhere, and more than
// limits::kMaxTitleLength characters.
std::string validate_title(const std::string& title, std::vector<FieldViolation>& violations);

// The deadline for answers (SPEC §9): an instant of years 1-9999, whole
// microseconds, after `now`; a refusal names `respond_by`.
Instant validate_respond_by(const google::protobuf::Timestamp& at, Instant now,
                            std::vector<FieldViolation>& violations);

// The reminder's lead: a duration of SPEC §4 (greater than zero, at most
// kMaxSlotDuration, whole microseconds); a refusal names `remind_before`.
Micros validate_remind_before(const google::protobuf::Duration& lead,
                              std::vector<FieldViolation>& violations);

}  // namespace calndro::events
