#include "events/request_validation.h"

#include <algorithm>
#include <type_traits>

#include "common/email.h"
#include "common/limits.h"
#include "common/text.h"

namespace calndro::events {

namespace {

// Each item through `parse` (an absl::StatusOr); a refused one is named
// "<label> N: why" under `field`. A list longer than `max` is refused whole.
template <typename Item, typename Parse>
auto parse_each(const google::protobuf::RepeatedPtrField<Item>& items, int max, const char* field,
                const char* label, Parse parse, std::vector<FieldViolation>& violations) {
  std::vector<typename std::invoke_result_t<Parse, const Item&>::value_type> parsed;
  if (items.size() > max) {
    violations.push_back({field, "At most " + std::to_string(max) + " " + field + "; got " +
                                     std::to_string(items.size()) + "."});
    return parsed;
  }
  for (int i = 0; i < items.size(); ++i) {
    auto item = parse(items.Get(i));
    if (!item.ok()) {
      violations.push_back({field, std::string(label) + " " + std::to_string(i + 1) + ": " +
                                       std::string(item.status().message())});
      continue;
    }
    parsed.push_back(*std::move(item));
  }
  return parsed;
}

}  // namespace

std::vector<std::string> validate_parties(const google::protobuf::RepeatedPtrField<std::string>& parties,
                                          std::vector<FieldViolation>& violations, bool required) {
  if (required && parties.empty()) {
    violations.push_back({"parties", "At least one party is required."});
    return {};
  }
  const std::vector<std::string> emails = parse_each(
      parties, limits::kMaxParties, "parties", "Item",
      [](const std::string& text) { return normalize_email(text); }, violations);
  // In order of first mention, each once.
  std::vector<std::string> canonical;
  for (const std::string& email : emails) {
    if (std::find(canonical.begin(), canonical.end(), email) == canonical.end()) {
      canonical.push_back(email);
    }
  }
  return canonical;
}

std::vector<Slot> validate_slots(
    const google::protobuf::RepeatedPtrField<calndro::common::v1::TimeSlot>& slots,
    std::vector<FieldViolation>& violations) {
  return canonical_slot_set(
      parse_each(slots, limits::kMaxSlots, "slots", "Slot", slot_from_proto, violations));
}

std::string validate_title(const std::string& title, std::vector<FieldViolation>& violations) {
  const auto first = title.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) {
    return "";
  }
  const auto last = title.find_last_not_of(" \t\r\n");
  std::string trimmed = title.substr(first, last - first + 1);
  if (utf8_length(trimmed) > limits::kMaxTitleLength) {
    violations.push_back({"title", "Ensure this field has no more than " +
                                       std::to_string(limits::kMaxTitleLength) + " characters."});
  }
  if (std::any_of(trimmed.begin(), trimmed.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20; })) {
    violations.push_back({"title", "Control characters (such as line breaks) are not allowed."});
  }
  return trimmed;
}

}  // namespace calndro::events
