#include "events/request_validation.h"

#include <algorithm>

#include "common/email.h"
#include "common/limits.h"
#include "common/text.h"

namespace calndro::events {

std::vector<std::string> validate_parties(const google::protobuf::RepeatedPtrField<std::string>& parties,
                                          std::vector<FieldViolation>& violations, bool required) {
  std::vector<std::string> canonical;
  if (required && parties.empty()) {
    violations.push_back({"parties", "At least one party is required."});
    return canonical;
  }
  if (parties.size() > limits::kMaxParties) {
    violations.push_back({"parties", "At most " + std::to_string(limits::kMaxParties) + " parties; got " +
                                         std::to_string(parties.size()) + "."});
    return canonical;
  }
  for (int i = 0; i < parties.size(); ++i) {
    const auto email = normalize_email(parties.Get(i));
    if (!email.ok()) {
      violations.push_back(
          {"parties", "Item " + std::to_string(i + 1) + ": " + std::string(email.status().message())});
      continue;
    }
    if (std::find(canonical.begin(), canonical.end(), *email) == canonical.end()) {
      canonical.push_back(*email);
    }
  }
  return canonical;
}

std::vector<Slot> validate_slots(
    const google::protobuf::RepeatedPtrField<calndro::common::v1::TimeSlot>& slots,
    std::vector<FieldViolation>& violations) {
  std::vector<Slot> parsed;
  if (slots.size() > limits::kMaxSlots) {
    violations.push_back({"slots", "At most " + std::to_string(limits::kMaxSlots) + " slots; got " +
                                       std::to_string(slots.size()) + "."});
    return parsed;
  }
  for (int i = 0; i < slots.size(); ++i) {
    const auto slot = slot_from_proto(slots.Get(i));
    if (!slot.ok()) {
      violations.push_back(
          {"slots", "Slot " + std::to_string(i + 1) + ": " + std::string(slot.status().message())});
      continue;
    }
    parsed.push_back(*slot);
  }
  return canonical_slot_set(std::move(parsed));
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
