// GetEventCalendar's document from an Event: the agreed entry (state AGREED)
// and the tentative ones (open or unspecified state).
#include "events/event_calendar.h"

#include <gtest/gtest.h>

#include "common/grpc/rich_status.h"
#include "common/text/icalendar.h"
#include "common/text/proto_time.h"

namespace calndro::events {
namespace {

Instant at(const char* text) {
  return parse_instant(text).value();
}

void set_slot(calndro::common::v1::TimeSlot& out, const char* begin, Micros duration) {
  *out.mutable_begin() = instant_to_proto(at(begin));
  *out.mutable_duration() = duration_to_proto(duration);
}

v1::Event open_event() {
  v1::Event event;
  event.set_id(7);
  event.set_title("cybes, the; second");
  event.set_version(4);
  event.add_parties("you@here.net");
  event.add_parties("they@thar.net");
  event.set_creator("they@thar.net");
  set_slot(*event.add_slots(), "2022-11-01T01:11:22Z", std::chrono::minutes(10));
  set_slot(*event.add_slots(), "2022-11-02T09:00:00.5Z", std::chrono::minutes(90));
  return event;
}

std::size_t count(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) {
    ++n;
  }
  return n;
}

TEST(EventCalendar, AgreedIsOneConfirmedEntryWithTheEventUid) {
  v1::Event event = open_event();
  event.set_state(v1::EVENT_STATE_AGREED);
  set_slot(*event.mutable_agreed_slot(), "2022-11-02T09:00:00.5Z", std::chrono::minutes(90));
  event.set_calendar_sequence(3);
  const auto calendar = event_calendar(event, "http://localhost:9000", at("2026-12-01T08:00:00Z"));
  ASSERT_TRUE(calendar.ok()) << calendar.status();
  const std::string& ics = calendar->ics();
  EXPECT_EQ(count(ics, "BEGIN:VEVENT"), 1u);
  for (const char* line :
       {"METHOD:PUBLISH", "UID:event-7@calndro", "SEQUENCE:3", "STATUS:CONFIRMED", "DTSTART:20221102T090000Z",
        "DTEND:20221102T103001Z", "DTSTAMP:20261201T080000Z", "SUMMARY:cybes\\, the\\; second",
        "URL:http://localhost:9000/7/", "ORGANIZER:mailto:they@thar.net"}) {
    EXPECT_NE(ics.find(std::string("\r\n") + line + "\r\n"), std::string::npos) << line << "\n" << ics;
  }
  EXPECT_EQ(ics.find("TENTATIVE"), std::string::npos);
  EXPECT_EQ(calendar->file_name(), "calndro-7.ics");
}

TEST(EventCalendar, OpenOrUnspecifiedIsOneTentativeEntryPerSlot) {
  for (const v1::EventState state : {v1::EVENT_STATE_OPEN, v1::EVENT_STATE_UNSPECIFIED}) {
    v1::Event event = open_event();
    event.set_state(state);
    const auto calendar = event_calendar(event, "https://cal.example.org/", at("2026-12-01T08:00:00Z"));
    ASSERT_TRUE(calendar.ok()) << calendar.status();
    const std::string& ics = calendar->ics();
    EXPECT_EQ(count(ics, "BEGIN:VEVENT"), 2u);
    EXPECT_EQ(count(ics, "\r\nSTATUS:TENTATIVE\r\n"), 2u);
    EXPECT_EQ(count(ics, "\r\nSEQUENCE:4\r\n"), 2u);
    const std::string first =
        icalendar::slot_uid(7, at("2022-11-01T01:11:22Z"), Micros(std::chrono::minutes(10)));
    EXPECT_NE(ics.find("\r\nUID:" + first + "\r\n"), std::string::npos) << ics;
    EXPECT_EQ(ics.find("UID:event-7@calndro"), std::string::npos);
    EXPECT_NE(ics.find("\r\nURL:https://cal.example.org/7/\r\n"), std::string::npos);
    EXPECT_EQ(count(ics, "\r\nORGANIZER:mailto:they@thar.net\r\n"), 2u) << ics;
    EXPECT_EQ(ics.find("ATTENDEE"), std::string::npos) << "PUBLISH names no attendee";
  }
}

TEST(EventCalendar, AnEventThatDoesNotNameItsCreatorHasNoOrganizer) {
  v1::Event event = open_event();
  event.clear_creator();
  const auto calendar = event_calendar(event, "", at("2026-12-01T08:00:00Z"));
  ASSERT_TRUE(calendar.ok());
  EXPECT_EQ(count(calendar->ics(), "STATUS:TENTATIVE"), 2u);
  EXPECT_EQ(calendar->ics().find("ORGANIZER"), std::string::npos) << calendar->ics();
}

TEST(EventCalendar, AgreedWithoutASlotIsReadAsOpen) {
  v1::Event event = open_event();
  event.set_state(v1::EVENT_STATE_AGREED);
  const auto calendar = event_calendar(event, "", at("2026-12-01T08:00:00Z"));
  ASSERT_TRUE(calendar.ok());
  EXPECT_EQ(count(calendar->ics(), "STATUS:TENTATIVE"), 2u);
  EXPECT_EQ(calendar->ics().find("URL:"), std::string::npos) << "no base, no URL";
}

TEST(EventCalendar, NoSlotsNoEntries) {
  v1::Event event = open_event();
  event.clear_slots();
  const auto calendar = event_calendar(event, "", at("2026-12-01T08:00:00Z"));
  ASSERT_TRUE(calendar.ok());
  EXPECT_EQ(calendar->ics().find("BEGIN:VEVENT"), std::string::npos);
  EXPECT_NE(calendar->ics().find("BEGIN:VCALENDAR"), std::string::npos);
}

TEST(EventCalendar, BadLinkBaseIsInvalidArgument) {
  for (const char* base : {"ftp://x.example", "http://x.example/?a=1", "http://x.example/#f", "x.example"}) {
    const auto calendar = event_calendar(open_event(), base, at("2026-12-01T08:00:00Z"));
    EXPECT_EQ(calendar.status().code(), absl::StatusCode::kInvalidArgument) << base;
  }
}

}  // namespace
}  // namespace calndro::events
