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
  const auto parties = validate_parties(request.parties(), violations, true);
  EXPECT_TRUE(violations.empty());
  EXPECT_EQ(parties, (std::vector<std::string>{"you@here.net", "they@thar.net"}));
}

TEST(ValidateParties, NamesEachBadItemAndLimits) {
  v1::CreateEventRequest request;
  request.add_parties("ok@here.net");
  request.add_parties("nope");
  std::vector<FieldViolation> violations;
  validate_parties(request.parties(), violations, true);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].field, "parties");
  EXPECT_NE(violations[0].description.find("Item 2"), std::string::npos);

  v1::CreateEventRequest empty;
  violations.clear();
  validate_parties(empty.parties(), violations, true);
  EXPECT_EQ(violations.size(), 1u);

  v1::CreateEventRequest many;
  for (int i = 0; i < 101; ++i) {
    many.add_parties("p" + std::to_string(i) + "@x.io");
  }
  violations.clear();
  validate_parties(many.parties(), violations, true);
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

}  // namespace
}  // namespace calndro::events
