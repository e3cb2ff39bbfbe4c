#pragma once

// What a mail's calendar part or an .ics document says, read by an independent
// parser: tests/support/calendar_summary.py (Python's `email` package and
// Debian's python3-icalendar). The JSON shapes are in that script's docstring.

#include <nlohmann/json.hpp>
#include <string>

namespace calndro::testing {

// A raw RFC 5322 message: content type, parts, text part, calendar summary.
nlohmann::json summarize_calendar_mail(const std::string& raw_mail);

// A text/calendar document: METHOD, line checks and one object per VEVENT.
nlohmann::json summarize_ics(const std::string& ics);

}  // namespace calndro::testing
