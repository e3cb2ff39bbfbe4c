#include "common/text/time_format.h"

#include <gtest/gtest.h>

#include <string>

namespace calndro {
namespace {

std::string round_trip_instant(const std::string& text) {
  const auto instant = parse_instant(text);
  return instant.ok() ? format_instant(*instant) : "error: " + std::string(instant.status().message());
}

template <typename Parse, typename Texts>
void expect_refused(Parse parse, const Texts& texts) {
  for (const auto& text : texts) {
    const auto refused = parse(text);
    EXPECT_FALSE(refused.ok()) << text;
    EXPECT_FALSE(refused.status().message().empty()) << text;
  }
}

template <typename Cases>
void expect_round_trips(std::string (*round_trip)(const std::string&), const Cases& cases) {
  for (const auto& c : cases) {
    EXPECT_EQ(round_trip(c.input), c.expected) << c.input;
  }
}

std::string round_trip_duration(const std::string& text) {
  const auto duration = parse_duration(text);
  return duration.ok() ? format_duration(*duration) : "error: " + std::string(duration.status().message());
}

struct Case {
  const char* input;
  const char* expected;
};

TEST(ParseInstant, AcceptsEverySpellingSpecLists) {
  const Case cases[] = {
      {"2022-11-01T01:11:22.020000Z", "2022-11-01T01:11:22.020000Z"},
      {"2022-11-01T01:11:22.02Z", "2022-11-01T01:11:22.020000Z"},
      {"2022-11-01T01:11:22.02", "2022-11-01T01:11:22.020000Z"},  // no offset: UTC
      {"2022-11-01 01:11:22", "2022-11-01T01:11:22Z"},
      {"2022-11-01t01:11:22z", "2022-11-01T01:11:22Z"},
      {"2021-03-11T14:34Z", "2021-03-11T14:34:00Z"},
      {"2021-03-11T16:34+02", "2021-03-11T14:34:00Z"},
      {"2021-03-11T16:34+0200", "2021-03-11T14:34:00Z"},
      {"2021-03-11T16:34:00+02:00", "2021-03-11T14:34:00Z"},
      {"2021-03-11T09:04:00-05:30", "2021-03-11T14:34:00Z"},
      {"2021-01-01T01:00:00+02:00", "2020-12-31T23:00:00Z"},  // offset crosses a year
      {"2024-02-29T00:00:00Z", "2024-02-29T00:00:00Z"},
      {"2022-11-01T01:11:22.000001Z", "2022-11-01T01:11:22.000001Z"},
      {"2022-11-01T01:11:22.000000Z", "2022-11-01T01:11:22Z"},
  };
  expect_round_trips(round_trip_instant, cases);
}

TEST(ParseInstant, RefusesImpossibleAndGarbage) {
  const char* bad[] = {
      "",
      "garbage",
      "2021-02-30T10:00:00Z",  // impossible date
      "2023-02-29T10:00:00Z",  // not a leap year
      "2021-13-01T10:00:00Z",
      "2021-00-10T10:00:00Z",
      "2021-01-01T24:00:00Z",
      "2021-01-01T23:60:00Z",
      "2021-01-01T23:59:60Z",
      "2021-01-01",                    // no time of day
      "2021-01-01T10",                 // no minutes
      "2021-01-01T10:00:00.1234567Z",  // more than microseconds
      "2021-01-01T10:00:00+24:00",
      "2021-01-01T10:00:00+2",
      "2021-01-01T10:00:00Zjunk",
      "0000-01-01T00:00:00Z",
      "9999-12-31T23:00:00-02:00",  // beyond year 9999 in UTC
      "21-01-01T10:00:00Z",
      " 2021-01-01T10:00:00Z",
  };
  expect_refused(parse_instant, bad);
}

TEST(ParseInstant, NamesTheImpossibleDate) {
  const auto refused = parse_instant("2021-02-30T10:00:00Z");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("2021-02-30"), std::string::npos) << refused.status();
}

TEST(ParseDuration, AcceptsEverySpellingSpecLists) {
  const Case cases[] = {
      {"00:10", "00:10:00"},  // HH:MM
      {"01:30", "01:30:00"},
      {"00:10:00", "00:10:00"},
      {"00:00:01.5", "00:00:01.500000"},
      {"00:00:00.000001", "00:00:00.000001"},
      {"1 02:00:00", "1 02:00:00"},  // D HH:MM:SS
      {"2 00:00", "2 00:00:00"},
      {"25:00:00", "1 01:00:00"},  // past a day: D HH:MM:SS
      {"PT1H30M", "01:30:00"},
      {"PT10M", "00:10:00"},
      {"P1DT2H", "1 02:00:00"},
      {"P1W", "7 00:00:00"},
      {"PT0.5S", "00:00:00.500000"},
      {"pt45m", "00:45:00"},
  };
  expect_round_trips(round_trip_duration, cases);
}

TEST(ParseDuration, RefusesZeroNegativeGarbageAndTooLong) {
  const char* bad[] = {
      "",
      "00:00",
      "00:00:00",
      "PT0S",
      "-00:10",
      "garbage",
      "10",
      "1:2",
      "00:60",
      "00:10:60",
      "P1Y",
      "P1M",
      "PT",
      "P",
      "PT1.5H",
      "PT1M1H",
      "400 00:00:00",
      "P367D",
      "00:10:00.1234567",
      "00:10:00Z",
      "1  02:00:00",
  };
  expect_refused(parse_duration, bad);
}

// Counts at and just past each unit's limit. Unchecked, "P30500569W" would
// overflow int64 (undefined behaviour) and wrap to about 16 hours.
TEST(ParseDuration, EveryUnitIsBoundedWithoutOverflow) {
  const Case accepted[] = {
      {"P52W", "364 00:00:00"},
      {"P52W2D", "366 00:00:00"},
      {"P366D", "366 00:00:00"},
      {"PT8784H", "366 00:00:00"},
      {"PT527040M", "366 00:00:00"},
      {"PT31622400S", "366 00:00:00"},
      {"PT31622399.999999S", "365 23:59:59.999999"},
      {"P365DT23H59M59.999999S", "365 23:59:59.999999"},
      {"366 00:00", "366 00:00:00"},
      {"8784:00", "366 00:00:00"},
      {"0 8784:00:00", "366 00:00:00"},
  };
  expect_round_trips(round_trip_duration, accepted);
  const char* too_long[] = {
      // Weeks that overflowed int64: P20200250W is the fuzz target's find.
      "P30500569W",  "P15250285W",      "P20200250W",        "P999999999W",   "P53W",
      "P52W3D",      "P367D",           "P999999999D",       "PT8785H",       "PT999999999H",
      "PT527041M",   "PT999999999M",    "PT31622401S",       "PT999999999S",  "PT31622400.000001S",
      "P366DT1S",    "P366DT0.000001S", "P52W2DT999999999H", "P1W999999999D", "366 00:00:00.000001",
      "367 00:00",   "999999999 00:00", "8785:00",           "999999999:00",  "0 999999999:00",
      "366 8784:00",
  };
  for (const char* text : too_long) {
    EXPECT_EQ(round_trip_duration(text), "error: Duration is longer than 366 days.") << text;
  }
}

TEST(ParseDuration, RefusesHugeDigitRunsAndLongFractions) {
  const std::string nines(400, '9');
  const std::string zeros(400, '0');
  const std::string bad[] = {
      "P" + nines + "W",  "P" + nines + "D", "PT" + nines + "S", "PT1." + zeros + "1S",
      "PT1.1234567S",     nines + ":00",     nines + " 00:00",   "00:00:01." + nines,
      "9999999999:00",  // ten digits of hours
      "P" + zeros + "1D",
  };
  expect_refused(parse_duration, bad);
}

TEST(ParseInstant, HugeYearsOffsetsAndFractionsAreRefused) {
  const std::string digits(400, '9');
  const std::string bad[] = {
      "99999-01-01T00:00:00Z",
      digits + "-01-01T00:00:00Z",
      "2021-01-01T00:00:00+99:99",
      "2021-01-01T00:00:00+" + digits,
      "2021-01-01T00:00:00-" + digits,
      "2021-01-01T00:00:00." + digits + "Z",
      "2021-01-01T" + digits + ":00Z",
      "0001-01-01T00:00:00+00:01",  // before year 1 in UTC
      "9999-12-31T23:59:59.999999-00:01",
  };
  expect_refused(parse_instant, bad);
  const Case accepted[] = {
      {"0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"},
      {"0001-01-01T00:00:00-23:59", "0001-01-01T23:59:00Z"},
      {"9999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59.999999Z"},
      {"9999-12-31T00:00:00+23:59", "9999-12-30T00:01:00Z"},
  };
  expect_round_trips(round_trip_instant, accepted);
}

TEST(FormatDuration, DaysOnlyPastADay) {
  EXPECT_EQ(format_duration(std::chrono::hours(24)), "1 00:00:00");
  EXPECT_EQ(format_duration(std::chrono::hours(23) + std::chrono::minutes(59)), "23:59:00");
}

TEST(DescribeSlot, IsReadableAndKeepsIso) {
  const auto begin = parse_instant("2022-11-01T01:11:22Z");
  ASSERT_TRUE(begin.ok());
  const std::string text = describe_slot(*begin, std::chrono::minutes(90));
  EXPECT_NE(text.find("Tue 1 Nov 2022, 01:11 UTC"), std::string::npos) << text;
  EXPECT_NE(text.find("2022-11-01T01:11:22Z"), std::string::npos) << text;
  EXPECT_NE(text.find("01:30:00"), std::string::npos) << text;
}

}  // namespace
}  // namespace calndro
