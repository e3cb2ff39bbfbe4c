#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

// The time rules of SPEC §4, shared by the gateway (parsing JSON), the
// notification service (writing mails) and the logs.
//
// Hand-written rather than std::chrono::parse (absent from g++ 12's
// libstdc++) or protobuf's TimeUtil (RFC 3339 only: no "+02", "+0200",
// no offset-less input, no "HH:MM" durations); calendar validity comes from
// std::chrono::year_month_day.
namespace calndro {

using Micros = std::chrono::microseconds;
using Instant = std::chrono::sys_time<Micros>;

// Longest accepted slot: a year. Longer is "out of range" for appointments.
inline constexpr Micros kMaxSlotDuration = std::chrono::days(366);

// Accepts "YYYY-MM-DD[T| ]HH:MM[:SS[.f{1,6}]][Z|±HH|±HHMM|±HH:MM]"; no
// offset means UTC. Refused text is INVALID_ARGUMENT with a sentence for
// the caller.
absl::StatusOr<Instant> parse_instant(std::string_view text);

// Accepts "HH:MM", "HH:MM:SS[.f]", "D HH:MM[:SS[.f]]" and ISO 8601
// "P[nW|nD][T[nH][nM][n[.f]S]]". Must be > 0 and at most kMaxSlotDuration.
absl::StatusOr<Micros> parse_duration(std::string_view text);

// "2022-11-01T01:11:22.020000Z"; the fraction only when non-zero.
std::string format_instant(Instant instant);
// "HH:MM:SS", "D HH:MM:SS" past a day; ".ffffff" only when non-zero.
std::string format_duration(Micros duration);
// The same, appended to `out` (no string of their own: response bodies).
void append_instant(std::string& out, Instant instant);
void append_duration(std::string& out, Micros duration);

// The Date header of a mail (RFC 5322): "Tue, 01 Nov 2022 01:11:22 +0000".
std::string format_rfc5322_date(Instant instant);

// A human wording for mails: "Tue 1 Nov 2022, 01:11 UTC for 10 min".
std::string describe_slot(Instant begin, Micros duration);

}  // namespace calndro
