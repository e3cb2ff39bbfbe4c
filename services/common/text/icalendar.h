#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/text/time_format.h"

// iCalendar (RFC 5545/5546) for calndro's agreed events: the invitation and
// cancellation parts of mails and the event.ics document. TEXT values are
// escaped (backslash, semicolon, comma, newline), lines end in CRLF and are
// folded at 75 octets without splitting a UTF-8 sequence
// (tests/unit/common/icalendar_test.cc; read back by python3-icalendar in the
// integration tests). Why not libical: icalendar.cc.
namespace calndro::icalendar {

// The UID of an event's calendar entry: stable for the event's whole life, so
// a calendar program updates or removes the entry it added instead of adding
// another ("event-7@calndro").
std::string event_uid(std::int64_t event_id);

// The UID of one candidate slot's TENTATIVE entry in an open event's .ics
// document: "event-7-slot-<begin µs since 1970>-<duration µs>@calndro".
// Stable while the slot is proposed, distinct for each slot and never equal
// to event_uid(), so importing the open document and later the agreed one
// (or an invitation) leaves the agreed entry apart from the candidates.
std::string slot_uid(std::int64_t event_id, Instant begin, Micros duration);

// METHOD of the VCALENDAR: REQUEST (agree), CANCEL (reopen, deletion) in
// mails, PUBLISH for the event.ics document.
enum class Method { kPublish, kRequest, kCancel };

enum class EntryStatus { kTentative, kConfirmed, kCancelled };

// One VEVENT.
struct Entry {
  std::string uid;
  // Written as it is from 0 to 2147483647 (RFC 5545 INTEGER), clamped beyond.
  std::int64_t sequence = 0;
  Instant stamp;  // DTSTAMP: when the document is written
  // DTSTART/DTEND, in UTC. iCalendar has whole seconds only: DTSTART is the
  // begin rounded down and DTEND begin + duration rounded up to the second,
  // so the entry always covers the whole slot and is never empty.
  Instant begin;
  Micros duration{0};
  std::string summary;  // TEXT; control characters other than newlines become spaces
  EntryStatus status = EntryStatus::kTentative;
  std::string organizer;  // an address ("mailto:" is added); empty: no ORGANIZER
  std::vector<std::string>
      attendees;            // addresses: ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE
  std::string url;          // empty: no URL
  std::string description;  // TEXT, may hold newlines; empty: no DESCRIPTION
};

// A VCALENDAR (VERSION:2.0, PRODID, METHOD) with one VEVENT per entry; CRLF
// line ends, lines folded at 75 octets.
std::string render(Method method, const std::vector<Entry>& entries);

// The "method=" parameter of a text/calendar Content-Type: "REQUEST", ...
std::string_view method_name(Method method);

}  // namespace calndro::icalendar
