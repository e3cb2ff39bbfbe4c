#pragma once

#include <chrono>

#include "notify/mail_composer.h"

// The mail, calendar and message the notify unit tests start from; a test
// changes on its copy what it is about.
namespace calndro::notify::samples {

// 2022-11-01T01:11:22Z, in microseconds since 1970.
inline constexpr long long kFirstNovember2022 = 1667265082000000;

// An update mail about event 7, "cybes", from you@here.net, proposing one
// slot of 10 minutes at 2022-11-01T01:11:22.02Z.
inline MailRequest mail_request() {
  MailRequest request;
  request.event_id = 7;
  request.title = "cybes";
  request.sender = "you@here.net";
  request.slots = {{Instant(Micros(kFirstNovember2022 + 20000)), std::chrono::minutes(10)}};
  return request;
}

// The calendar of event 7 agreed (kRequest) or cancelled (kCancel) on
// `slot`: you@here.net organizes, they@thar.net attends too.
inline CalendarRequest calendar(icalendar::Method method, SlotText slot) {
  CalendarRequest calendar;
  calendar.method = method;
  calendar.uid = "event-7@calndro.example.org";
  calendar.sequence = 2;
  calendar.slot = slot;
  calendar.organizer = "you@here.net";
  calendar.attendees = {"you@here.net", "they@thar.net"};
  return calendar;
}

// `mail` as the dispatcher sends it to they@thar.net from the default
// address, dated 2022-11-01T01:11:22Z.
inline WireMail wire_of(const MailRequest& request, const MailContent& mail) {
  WireMail wire;
  wire.from = {"calndro", "noreply@calndro.localhost"};
  wire.to = "they@thar.net";
  wire.subject = mail.subject;
  wire.body = mail.body;
  wire.date = Instant(Micros(kFirstNovember2022));
  wire.message_id = message_id(request.event_id, wire.date, "calndro.localhost");
  return wire;
}

}  // namespace calndro::notify::samples
