#include "common/text/icalendar.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/mail_text.h"

namespace calndro::icalendar {
namespace {

using calndro::testing::crlf_lines;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;

Instant at(const char* text) {
  return parse_instant(text).value();
}

Entry sample_entry() {
  Entry entry;
  entry.uid = event_uid(7);
  entry.sequence = 3;
  entry.stamp = at("2026-12-01T08:00:00.123456Z");
  entry.begin = at("2022-11-01T01:11:22Z");
  entry.duration = std::chrono::minutes(10);
  entry.summary = "cybes";
  entry.status = EntryStatus::kConfirmed;
  entry.organizer = "you@here.net";
  entry.attendees = {"you@here.net", "they@thar.net"};
  entry.url = "http://localhost:9000/7/?et=0123456789abcdef0123456789abcdef01234567";
  entry.description = "Open the event:\n" + entry.url;
  return entry;
}

// Content lines as RFC 5545 §3.1 unfolds them.
std::vector<std::string> content_lines(const std::string& text) {
  std::vector<std::string> lines;
  for (const std::string& line : crlf_lines(text)) {
    if (!line.empty() && line.front() == ' ' && !lines.empty()) {
      lines.back() += line.substr(1);
    } else {
      lines.push_back(line);
    }
  }
  return lines;
}

bool valid_utf8(const std::string& text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const std::size_t length = lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 0;
    if (length == 0 || i + length > text.size()) {
      return false;
    }
    for (std::size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) {
        return false;
      }
    }
    i += length;
  }
  return true;
}

TEST(ICalendar, WritesOneVeventWithEveryProperty) {
  const std::string ics = render(Method::kRequest, {sample_entry()});
  const auto lines = content_lines(ics);
  EXPECT_EQ(lines.front(), "BEGIN:VCALENDAR");
  EXPECT_EQ(lines.back(), "END:VCALENDAR");
  EXPECT_THAT(lines, IsSupersetOf({
                         "VERSION:2.0",
                         "PRODID:-//calndro//calndro//EN",
                         "METHOD:REQUEST",
                         "BEGIN:VEVENT",
                         "UID:event-7@calndro",
                         "SEQUENCE:3",
                         "DTSTAMP:20261201T080000Z",
                         "DTSTART:20221101T011122Z",
                         "DTEND:20221101T012122Z",
                         "SUMMARY:cybes",
                         "STATUS:CONFIRMED",
                         "ORGANIZER:mailto:you@here.net",
                         "ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:they@thar.net",
                         "ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:you@here.net",
                         "URL:http://localhost:9000/7/?et=0123456789abcdef0123456789abcdef01234567",
                         "DESCRIPTION:Open the event:\\nhttp://localhost:9000/7/?et=0123456789abcdef01"
                         "23456789abcdef01234567",
                     }));
}

TEST(ICalendar, MethodsAndStatuses) {
  Entry entry = sample_entry();
  entry.status = EntryStatus::kCancelled;
  EXPECT_THAT(render(Method::kCancel, {entry}), HasSubstr("\r\nMETHOD:CANCEL\r\n"));
  EXPECT_THAT(render(Method::kCancel, {entry}), HasSubstr("\r\nSTATUS:CANCELLED\r\n"));
  entry.status = EntryStatus::kTentative;
  EXPECT_THAT(render(Method::kPublish, {entry}), HasSubstr("\r\nMETHOD:PUBLISH\r\n"));
  EXPECT_THAT(render(Method::kPublish, {entry}), HasSubstr("\r\nSTATUS:TENTATIVE\r\n"));
  EXPECT_EQ(method_name(Method::kRequest), "REQUEST");
  EXPECT_EQ(method_name(Method::kCancel), "CANCEL");
  EXPECT_EQ(method_name(Method::kPublish), "PUBLISH");
}

TEST(ICalendar, EscapesTextValues) {
  Entry entry = sample_entry();
  entry.summary = "a,b;c\\d\ne\tf";
  entry.description = "one\r\ntwo\rthree";
  const auto lines = content_lines(render(Method::kPublish, {entry}));
  EXPECT_THAT(lines, Contains("SUMMARY:a\\,b\\;c\\\\d e f"));
  EXPECT_THAT(lines, Contains("DESCRIPTION:one\\ntwo\\nthree"));
}

TEST(ICalendar, CrlfOnlyAndFoldsAt75OctetsKeepingUtf8Whole) {
  Entry entry = sample_entry();
  entry.summary.clear();
  for (int i = 0; i < 40; ++i) {
    entry.summary += "Réunion très längere 日本語 ";  // 1-, 2- and 3-octet sequences at every offset
  }
  entry.url = "https://calendar.example.org/" + std::string(200, 'p') + "/7/";
  const std::string ics = render(Method::kRequest, {entry});
  ASSERT_TRUE(ics.ends_with("\r\n"));
  const auto lines = crlf_lines(ics);
  int folded = 0;
  for (const std::string& line : lines) {
    EXPECT_EQ(line.find('\r'), std::string::npos);
    EXPECT_EQ(line.find('\n'), std::string::npos);
    EXPECT_LE(line.size(), 75u) << line;
    EXPECT_TRUE(valid_utf8(line)) << line;
    folded += line.starts_with(" ") ? 1 : 0;
  }
  EXPECT_GT(folded, 20);
  std::string expected_summary = "SUMMARY:" + entry.summary;
  EXPECT_THAT(content_lines(ics), Contains(expected_summary));
  EXPECT_THAT(content_lines(ics), Contains("URL:" + entry.url));
}

// Every length of a run of 3-octet characters after 0-2 ASCII ones: the fold
// lands at every offset, and at the line's end too (where libical 3.0.16
// split the line's own CRLF).
TEST(ICalendar, FoldsRunsOfMultiOctetCharactersAtEveryOffset) {
  for (int prefix = 0; prefix < 3; ++prefix) {
    for (int count = 1; count < 120; ++count) {
      Entry entry = sample_entry();
      entry.summary = std::string(prefix, 'a');
      for (int i = 0; i < count; ++i) {
        entry.summary += "日";
      }
      const std::string ics = render(Method::kRequest, {entry});
      ASSERT_TRUE(ics.ends_with("\r\n"));
      for (const std::string& line : crlf_lines(ics)) {
        ASSERT_EQ(line.find_first_of("\r\n"), std::string::npos) << prefix << " " << count;
        ASSERT_LE(line.size(), 75u) << prefix << " " << count;
        ASSERT_TRUE(valid_utf8(line)) << prefix << " " << count;
      }
      ASSERT_THAT(content_lines(ics), Contains("SUMMARY:" + entry.summary)) << prefix << " " << count;
    }
  }
}

TEST(ICalendar, InvalidUtf8IsCarriedWithoutBreakingLines) {
  Entry entry = sample_entry();
  entry.summary = std::string(100, '\xc3') + "\x80\xe6\x97" + std::string(50, '\x97');
  const std::string ics = render(Method::kRequest, {entry});
  for (const std::string& line : crlf_lines(ics)) {
    EXPECT_EQ(line.find_first_of("\r\n"), std::string::npos);
    EXPECT_LE(line.size(), 75u);
  }
  EXPECT_THAT(content_lines(ics), Contains("SUMMARY:" + entry.summary));
}

// The DTSTART and DTEND lines of the sample entry moved to `begin`, lasting
// `duration`.
std::vector<std::string> dtstart_and_dtend(const char* begin, Micros duration = std::chrono::minutes(10)) {
  Entry entry = sample_entry();
  entry.begin = at(begin);
  entry.duration = duration;
  std::vector<std::string> span;
  for (const std::string& line : content_lines(render(Method::kRequest, {entry}))) {
    if (line.starts_with("DTSTART:") || line.starts_with("DTEND:")) {
      span.push_back(line);
    }
  }
  return span;
}

TEST(ICalendar, SubSecondSlotsCoverTheWholeSlot) {
  EXPECT_THAT(dtstart_and_dtend("2022-11-01T01:11:22.020000Z", std::chrono::milliseconds(600500)),
              ElementsAre("DTSTART:20221101T011122Z", "DTEND:20221101T012123Z"));
  EXPECT_THAT(dtstart_and_dtend("2022-11-01T01:11:22.200000Z", std::chrono::microseconds(1)),
              ElementsAre("DTSTART:20221101T011122Z", "DTEND:20221101T011123Z"));
}

TEST(ICalendar, FirstAndLastYears) {
  EXPECT_THAT(dtstart_and_dtend("0001-01-01T00:00:00Z"),
              ElementsAre("DTSTART:00010101T000000Z", "DTEND:00010101T001000Z"));
  EXPECT_THAT(dtstart_and_dtend("9999-12-31T23:59:59.5Z", std::chrono::days(366)),
              ElementsAre("DTSTART:99991231T235959Z", "DTEND:99991231T235959Z"));
}

TEST(ICalendar, OptionalPropertiesAndSeveralEntries) {
  Entry first = sample_entry();
  first.organizer.clear();
  first.attendees.clear();
  first.url.clear();
  first.description.clear();
  Entry second = first;
  second.uid = slot_uid(7, first.begin, first.duration);
  first.sequence = -5;
  second.sequence = std::int64_t{1} << 40;
  const std::string ics = render(Method::kPublish, {first, second});
  const auto lines = content_lines(ics);
  EXPECT_EQ(std::count(lines.begin(), lines.end(), "BEGIN:VEVENT"), 2);
  EXPECT_THAT(lines, Contains("SEQUENCE:0"));
  EXPECT_THAT(lines, Contains("SEQUENCE:2147483647"));
  EXPECT_THAT(ics, ::testing::Not(HasSubstr("ORGANIZER")));
  EXPECT_THAT(ics, ::testing::Not(HasSubstr("ATTENDEE")));
  EXPECT_THAT(ics, ::testing::Not(HasSubstr("URL")));
  EXPECT_THAT(ics, ::testing::Not(HasSubstr("DESCRIPTION")));
}

TEST(ICalendar, SlotUidsAreStableDistinctAndNeverTheEventUid) {
  const Instant begin = at("2022-11-01T01:11:22.020000Z");
  const Micros ten{std::chrono::minutes(10)};
  EXPECT_EQ(slot_uid(7, begin, ten), "event-7-slot-1667265082020000-600000000@calndro");
  EXPECT_EQ(slot_uid(7, begin, ten), slot_uid(7, begin, ten));
  EXPECT_NE(slot_uid(7, begin, ten), slot_uid(7, begin, Micros{std::chrono::minutes(11)}));
  EXPECT_NE(slot_uid(7, begin, ten), slot_uid(70, begin, ten));
  EXPECT_NE(slot_uid(7, begin, ten), event_uid(7));
  EXPECT_EQ(event_uid(7), "event-7@calndro");
}

}  // namespace
}  // namespace calndro::icalendar
