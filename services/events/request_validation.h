#pragma once

#include <google/protobuf/repeated_field.h>

#include <string>
#include <vector>

#include "calndro/common/v1/time_slot.pb.h"
#include "common/rich_status.h"
#include "common/time_slot.h"

// Checks of SPEC §3, §4 and §7 that the event service applies to every
// caller, REST or direct gRPC. Each collects field violations instead of
// stopping at the first, so one 400 names every problem.
namespace calndro::events {

// Canonical emails, duplicates folded, first mention first.
std::vector<std::string> validate_parties(const google::protobuf::RepeatedPtrField<std::string>& parties,
                                          std::vector<FieldViolation>& violations, bool required);

// Canonical slot set (sorted, duplicates folded).
std::vector<Slot> validate_slots(
    const google::protobuf::RepeatedPtrField<calndro::common::v1::TimeSlot>& slots,
    std::vector<FieldViolation>& violations);

// Trimmed title; empty stays empty (the caller decides what that means).
std::string validate_title(const std::string& title, std::vector<FieldViolation>& violations);

}  // namespace calndro::events
