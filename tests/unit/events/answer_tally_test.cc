#include "events/answer_tally.h"

#include <gtest/gtest.h>

#include "service_fixture.h"

// SPEC §9's tally and best slot, and what a new slot set keeps of the
// answers, without a service around them.
namespace calndro::events {
namespace {

const std::vector<std::string> kParties = {"a@x.org", "b@x.org", "c@x.org"};

TEST(AnswerWords, AreTheApisWordsBothWays) {
  for (const Answer answer : {Answer::kYes, Answer::kMaybe, Answer::kNo}) {
    EXPECT_EQ(answer_from_word(answer_word(answer)), answer);
  }
  EXPECT_EQ(answer_word(Answer::kMaybe), "maybe");
  EXPECT_EQ(answer_from_word("Yes"), std::nullopt);
  EXPECT_EQ(answer_from_word("if need be"), std::nullopt);
  EXPECT_EQ(answer_from_word(""), std::nullopt);
}

TEST(Tally, CountsEachSlotOverAllPartiesAndTheRestIsPending) {
  const std::vector<Slot> slots = {slot_at(1), slot_at(2), slot_at(3)};
  const Answers answers = {
      {"a@x.org", {{slot_at(1), Answer::kYes}, {slot_at(2), Answer::kNo}}},
      {"b@x.org", {{slot_at(1), Answer::kMaybe}}},
  };
  const std::vector<TallyRow> rows = tally(slots, kParties, answers);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], (TallyRow{slot_at(1), 1, 1, 0, 1}));
  EXPECT_EQ(rows[1], (TallyRow{slot_at(2), 0, 0, 1, 2}));
  EXPECT_EQ(rows[2], (TallyRow{slot_at(3), 0, 0, 0, 3}));
}

TEST(Tally, IgnoresAnswersToOtherSlotsAndFromNonParties) {
  const Answers answers = {
      {"a@x.org", {{slot_at(9), Answer::kYes}}},
      {"stranger@x.org", {{slot_at(1), Answer::kYes}}},
  };
  const std::vector<TallyRow> rows = tally({slot_at(1)}, kParties, answers);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], (TallyRow{slot_at(1), 0, 0, 0, 3}));
  EXPECT_TRUE(tally({}, kParties, answers).empty());
}

TEST(BestSlot, IsNoneWhileNobodySaidYesOrMaybe) {
  EXPECT_EQ(best_slot({}), std::nullopt);
  EXPECT_EQ(best_slot({{slot_at(1), 0, 0, 3, 0}, {slot_at(2), 0, 0, 0, 3}}), std::nullopt);
}

TEST(BestSlot, MostYesOrMaybeThenMostYesThenEarliest) {
  // Most yes + maybe wins over most yes.
  EXPECT_EQ(best_slot({{slot_at(1), 2, 0, 1, 0}, {slot_at(2), 1, 2, 0, 0}}), slot_at(2));
  // Equal yes + maybe: the most yes.
  EXPECT_EQ(best_slot({{slot_at(1), 1, 1, 0, 1}, {slot_at(2), 2, 0, 0, 1}}), slot_at(2));
  // Equal in both: the earliest (the tally is in slot order).
  EXPECT_EQ(best_slot({{slot_at(1), 1, 1, 0, 1}, {slot_at(2), 1, 1, 1, 0}, {slot_at(3), 1, 1, 0, 1}}),
            slot_at(1));
  // A maybe alone is enough.
  EXPECT_EQ(best_slot({{slot_at(1), 0, 0, 1, 2}, {slot_at(2), 0, 1, 0, 2}}), slot_at(2));
}

TEST(AnswersWithin, KeepsOnlyTheGivenSlotsAndDropsEmptiedParties) {
  const Answers answers = {
      {"a@x.org", {{slot_at(1), Answer::kYes}, {slot_at(2), Answer::kNo}, {slot_at(3), Answer::kMaybe}}},
      {"b@x.org", {{slot_at(2), Answer::kMaybe}}},
  };
  const Answers kept = answers_within(answers, {slot_at(1), slot_at(3), slot_at(4)});
  const Answers expected = {{"a@x.org", {{slot_at(1), Answer::kYes}, {slot_at(3), Answer::kMaybe}}}};
  EXPECT_EQ(kept, expected);
  EXPECT_TRUE(answers_within(answers, {}).empty());
}

TEST(WithRow, ReplacesOrRemovesOneParty) {
  Answers answers = {{"a@x.org", {{slot_at(1), Answer::kYes}}}, {"b@x.org", {{slot_at(1), Answer::kNo}}}};
  answers = with_row(answers, "a@x.org", {{slot_at(2), Answer::kMaybe}});
  EXPECT_EQ(answers.at("a@x.org"), (std::vector<SlotAnswer>{{slot_at(2), Answer::kMaybe}}));
  answers = with_row(answers, "b@x.org", {});
  EXPECT_EQ(answers.count("b@x.org"), 0u);
  answers = with_row(answers, "c@x.org", {{slot_at(1), Answer::kNo}});
  EXPECT_EQ(answers.size(), 2u);
}

}  // namespace
}  // namespace calndro::events
