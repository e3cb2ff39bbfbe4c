#include "events/answer_tally.h"

#include <algorithm>
#include <utility>

namespace calndro::events {
namespace {

constexpr std::pair<Answer, std::string_view> kAnswerWords[] = {
    {Answer::kYes, "yes"}, {Answer::kMaybe, "maybe"}, {Answer::kNo, "no"}};

}  // namespace

std::string_view answer_word(Answer answer) {
  for (const auto& [value, word] : kAnswerWords) {
    if (value == answer) {
      return word;
    }
  }
  return "no";
}

std::optional<Answer> answer_from_word(std::string_view word) {
  for (const auto& [value, known] : kAnswerWords) {
    if (word == known) {
      return value;
    }
  }
  return std::nullopt;
}

std::vector<TallyRow> tally(const std::vector<Slot>& slots, const std::vector<std::string>& parties,
                            const Answers& answers) {
  std::vector<TallyRow> rows;
  rows.reserve(slots.size());
  for (const Slot& slot : slots) {
    rows.push_back({.slot = slot, .pending = static_cast<int>(parties.size())});
  }
  for (const std::string& party : parties) {
    const auto found = answers.find(party);
    if (found == answers.end()) {
      continue;
    }
    for (const SlotAnswer& given : found->second) {
      const auto row = std::lower_bound(rows.begin(), rows.end(), given.slot,
                                        [](const TallyRow& r, const Slot& slot) { return r.slot < slot; });
      if (row == rows.end() || row->slot != given.slot) {
        continue;  // not a current slot: it does not count
      }
      --row->pending;
      ++(given.answer == Answer::kYes ? row->yes : given.answer == Answer::kMaybe ? row->maybe : row->no);
    }
  }
  return rows;
}

std::optional<Slot> best_slot(const std::vector<TallyRow>& rows) {
  const TallyRow* best = nullptr;
  for (const TallyRow& row : rows) {
    const int suits = row.yes + row.maybe;
    // Strictly better only: on a tie the earlier slot stays.
    if (suits > 0 && (best == nullptr || suits > best->yes + best->maybe ||
                      (suits == best->yes + best->maybe && row.yes > best->yes))) {
      best = &row;
    }
  }
  return best == nullptr ? std::nullopt : std::optional<Slot>(best->slot);
}

Answers answers_within(const Answers& answers, const std::vector<Slot>& slots) {
  Answers kept;
  for (const auto& [party, row] : answers) {
    std::vector<SlotAnswer> still;
    std::copy_if(row.begin(), row.end(), std::back_inserter(still), [&](const SlotAnswer& given) {
      return std::binary_search(slots.begin(), slots.end(), given.slot);
    });
    if (!still.empty()) {
      kept.emplace(party, std::move(still));
    }
  }
  return kept;
}

Answers with_row(Answers answers, const std::string& party, std::vector<SlotAnswer> row) {
  if (row.empty()) {
    answers.erase(party);
  } else {
    answers[party] = std::move(row);
  }
  return answers;
}

}  // namespace calndro::events
