#include "events/request_validation.h"

#include <gtest/gtest.h>

#include "calndro/events/v1/events.pb.h"

namespace calndro::events {
namespace {

TEST(ValidateParties, FoldsDuplicatesAcrossCase) {
  v1::CreateEventRequest request;
  request.add_parties("You@Here.net");
  request.add_parties("they@thar.net");
  request.add_parties("you@here.net");
  std::vector<FieldViolation> violations;
  const auto parties = validate_parties(request.parties(), violations, Presence::kRequired);
  EXPECT_TRUE(violations.empty());
  EXPECT_EQ(parties, (std::vector<std::string>{"you@here.net", "they@thar.net"}));
}

TEST(ValidateParties, NamesEachBadItemAndLimits) {
  v1::CreateEventRequest request;
  request.add_parties("ok@here.net");
  request.add_parties("nope");
  std::vector<FieldViolation> violations;
  validate_parties(request.parties(), violations, Presence::kRequired);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].field, "parties");
  EXPECT_NE(violations[0].description.find("Item 2"), std::string::npos);

  v1::CreateEventRequest empty;
  violations.clear();
  validate_parties(empty.parties(), violations, Presence::kRequired);
  EXPECT_EQ(violations.size(), 1u);

  v1::CreateEventRequest many;
  for (int i = 0; i < 101; ++i) {
    many.add_parties("p" + std::to_string(i) + "@x.io");
  }
  violations.clear();
  validate_parties(many.parties(), violations, Presence::kRequired);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_NE(violations[0].description.find("100"), std::string::npos);
}

TEST(ValidateSlots, LimitsAndFolds) {
  v1::CreateEventRequest request;
  for (int i = 0; i < 31; ++i) {
    auto* slot = request.add_slots();
    slot->mutable_begin()->set_seconds(1667265082 + i);
    slot->mutable_duration()->set_seconds(600);
  }
  std::vector<FieldViolation> violations;
  validate_slots(request.slots(), violations);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].field, "slots");

  request.mutable_slots()->DeleteSubrange(2, 29);
  *request.add_slots() = request.slots(0);  // a duplicate
  violations.clear();
  EXPECT_EQ(validate_slots(request.slots(), violations).size(), 2u);
  EXPECT_TRUE(violations.empty());

  request.mutable_slots(1)->mutable_duration()->set_seconds(0);
  violations.clear();
  validate_slots(request.slots(), violations);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_NE(violations[0].description.find("Slot 2"), std::string::npos);
}

TEST(ValidateTitle, TrimsAndLimitsCharactersNotBytes) {
  std::vector<FieldViolation> violations;
  EXPECT_EQ(validate_title("  cybes  ", violations), "cybes");
  EXPECT_EQ(validate_title("   ", violations), "");
  std::string accented;
  for (int i = 0; i < 256; ++i) {
    accented += "\xC3\xA9";  // é: 2 bytes, 1 character
  }
  validate_title(accented, violations);
  EXPECT_TRUE(violations.empty());
  validate_title(accented + "x", violations);
  EXPECT_EQ(violations.size(), 1u);
  violations.clear();
  validate_title("two\nlines", violations);
  EXPECT_EQ(violations.size(), 1u);
}

// SPEC §7: control characters (C0, DEL, C1), the line and paragraph
// separators and bidirectional overrides and isolates are refused anywhere
// in a title, the edges included (only spaces are trimmed), with one
// violation naming `title`; so are bytes that are not UTF-8.
TEST(ValidateTitle, RefusesControlsSeparatorsBidiOverridesAndBrokenUtf8) {
  const std::string refused[] = {std::string("nul\0inside", 10), "tab\there", "ends with a line break\n",
                                 "\tleading tab", "del\x7F", "c1 \xC2\x80 start", "c1 \xC2\x9F end",
                                 "csi \xC2\x9B", "line\xE2\x80\xA8sep", "para\xE2\x80\xA9sep",
                                 // U+202A LRE, U+202B RLE, U+202C PDF, U+202D LRO, U+202E RLO
                                 "\xE2\x80\xAA", "\xE2\x80\xAB", "\xE2\x80\xAC", "\xE2\x80\xAD",
                                 "invoice \xE2\x80\xAE"
                                 "fdp.exe",
                                 // U+2066 LRI, U+2067 RLI, U+2068 FSI, U+2069 PDI
                                 "\xE2\x81\xA6", "\xE2\x81\xA7", "\xE2\x81\xA8", "x\xE2\x81\xA9",
                                 // not UTF-8: a stray continuation byte, a truncated sequence, overlong
                                 // forms (of '/' and of U+0000), a surrogate (U+D800), past U+10FFFF, Latin-1
                                 "\x80", "caf\xC3", "\xC0\xAF", "\xC0\x80", "\xE0\x80\xAF", "\xED\xA0\x80",
                                 "\xF4\x90\x80\x80", "caf\xE9"};
  for (const std::string& title : refused) {
    std::vector<FieldViolation> violations;
    validate_title(title, violations);
    ASSERT_EQ(violations.size(), 1u) << title;
    EXPECT_EQ(violations[0].field, "title") << title;
  }
  std::vector<FieldViolation> violations;
  validate_title("caf\xC3", violations);
  EXPECT_EQ(violations.at(0).description, "Not valid UTF-8.");
}

// What stays allowed: any other printable character, including the
// right-to-left and left-to-right marks (U+200E, U+200F) and the Arabic
// letter mark (U+061C) that mixed-direction titles need, zero-width joiners
// of emoji, and characters outside the Basic Multilingual Plane.
TEST(ValidateTitle, KeepsPrintableTextDirectionMarksAndEmoji) {
  const std::string allowed[] = {"caf\xC3\xA9 \xE2\x80\x94 tea",  // é, em dash
                                 "\xD7\xA4\xD7\x92\xD7\x99\xD7\xA9\xD7\x94 \xE2\x80\x8F"
                                 "10:00",  // Hebrew, RLM
                                 "\xE2\x80\x8E(LTR mark)",
                                 "\xD8\xB9\xD8\xB1\xD8\xA8\xD9\x8A \xD8\x9C",             // LRM; Arabic, ALM
                                 "\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x92\xBB standup",  // 👩‍💻 (ZWJ)
                                 "\xF4\x8F\xBF\xBF",  // U+10FFFF, the last code point
                                 "U+00A0\xC2\xA0is a space"};
  for (const std::string& title : allowed) {
    std::vector<FieldViolation> violations;
    EXPECT_EQ(validate_title(title, violations), title);
    EXPECT_TRUE(violations.empty()) << title << ": " << (violations.empty() ? "" : violations[0].description);
  }
}

}  // namespace
}  // namespace calndro::events
