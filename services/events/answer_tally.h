#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/text/time_slot.h"

// SPEC §9 as pure functions: the parties' answers to the slots, the tally
// and the best slot. The event service keeps answers on the event (stores.h);
// nothing here reads a database or a clock.
namespace calndro::events {

enum class Answer { kYes, kMaybe, kNo };

// "yes", "maybe", "no": the words of the API, of the log and of the
// database's `answers` column.
std::string_view answer_word(Answer answer);
std::optional<Answer> answer_from_word(std::string_view word);

struct SlotAnswer {
  Slot slot;
  Answer answer = Answer::kYes;
  bool operator==(const SlotAnswer&) const = default;
};

// Each party's answers, by canonical email, each list in slot order; a party
// without any answer is absent.
using Answers = std::map<std::string, std::vector<SlotAnswer>>;

// One slot's counts over all parties; a party that has not answered the
// slot is pending.
struct TallyRow {
  Slot slot;
  int yes = 0;
  int maybe = 0;
  int no = 0;
  int pending = 0;
  bool operator==(const TallyRow&) const = default;
};

// One row per slot of `slots` (the event's canonical set), in that order,
// counting the answers of `parties` only.
std::vector<TallyRow> tally(const std::vector<Slot>& slots, const std::vector<std::string>& parties,
                            const Answers& answers);

// The slot with the most parties answering yes or maybe, then the most yes,
// then the earliest (the first of the tally, which is in slot order);
// nullopt while nobody answered yes or maybe.
std::optional<Slot> best_slot(const std::vector<TallyRow>& rows);

// `answers` restricted to `slots`: what a new slot set keeps. Parties left
// without answers are dropped, so a slot added later (even one removed and
// added back) is pending for everyone.
Answers answers_within(const Answers& answers, const std::vector<Slot>& slots);

// `answers` with `party`'s row replaced by `row` (in slot order; empty:
// the party has no answers).
Answers with_row(Answers answers, const std::string& party, std::vector<SlotAnswer> row);

}  // namespace calndro::events
