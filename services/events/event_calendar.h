#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "calndro/events/v1/events.pb.h"
#include "common/text/time_format.h"

// GetEventCalendar's document (SPEC §3 GET /ID/event.ics), from the Event as
// GetEvent answers it: METHOD:PUBLISH and
//  * agreed (state EVENT_STATE_AGREED with an agreed_slot): one VEVENT,
//    STATUS:CONFIRMED, UID icalendar::event_uid(id) (the UID of the
//    invitations), SEQUENCE calendar_sequence, DTSTART/DTEND the agreed slot;
//  * open (any other state, UNSPECIFIED too): one VEVENT per slot,
//    STATUS:TENTATIVE, UID icalendar::slot_uid(id, slot) (never the agreed
//    entry's UID), SEQUENCE the event's version (so a changed title updates
//    a re-imported entry); no slots: no VEVENT.
// Every VEVENT: SUMMARY the title, ORGANIZER the creator (RFC 5546 PUBLISH
// requires one; none when the Event does not name its creator), DTSTAMP
// `now`, URL and DESCRIPTION the event's page BASE/ID/ (no token: the document
// may be passed around). No ATTENDEE: PUBLISH has none (the parties are in
// the event's JSON).
namespace calndro::events {

// `link_base`: the service's CALNDRO_PUBLIC_BASE_URL (checked at start-up),
// never a caller's; empty gives no URL; else an http(s) URL without query or
// fragment (INVALID_ARGUMENT otherwise).
absl::StatusOr<v1::EventCalendar> event_calendar(const v1::Event& event, std::string_view link_base,
                                                 Instant now);

// "calndro-7.ics".
std::string calendar_file_name(std::int64_t event_id);

}  // namespace calndro::events
