#pragma once

#include <cstdint>
#include <string>

// iCalendar (RFC 5545/5546) for calndro's agreed events: the invitation and
// cancellation parts of mails and the event.ics document.
namespace calndro::icalendar {

// The UID of an event's calendar entry: stable for the event's whole life, so
// a calendar program updates or removes the entry it added instead of adding
// another ("event-7@calndro").
std::string event_uid(std::int64_t event_id);

}  // namespace calndro::icalendar
