#include "events/request_validation.h"

#include <algorithm>
#include <iterator>
#include <optional>
#include <string_view>
#include <type_traits>

#include "common/text/email.h"
#include "common/text/limits.h"
#include "common/text/text.h"

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

// The code point of the UTF-8 sequence at text[pos] (pos moves past it), or
// nullopt for bytes that are not well-formed UTF-8: a stray continuation
// byte, a truncated sequence, an overlong form, a surrogate, past U+10FFFF.
std::optional<char32_t> next_code_point(std::string_view text, std::size_t& pos) {
  // The lead bytes of 2-, 3- and 4-byte sequences: the bits that mark them,
  // and the smallest code point each may carry (below it: overlong).
  struct Lead {
    unsigned char mask;
    unsigned char marker;
    std::size_t continuations;
    char32_t smallest;
  };
  constexpr Lead kLeads[] = {{0xE0, 0xC0, 1, 0x80}, {0xF0, 0xE0, 2, 0x800}, {0xF8, 0xF0, 3, 0x10000}};
  const auto byte = static_cast<unsigned char>(text[pos++]);
  if (byte < 0x80) {
    return byte;
  }
  const auto* lead = std::find_if(std::begin(kLeads), std::end(kLeads), [&](const Lead& candidate) {
    return (byte & candidate.mask) == candidate.marker;
  });
  if (lead == std::end(kLeads)) {
    return std::nullopt;
  }
  char32_t point = byte & static_cast<unsigned char>(~lead->mask);
  for (std::size_t i = 0; i < lead->continuations; ++i) {
    if (pos == text.size() || (static_cast<unsigned char>(text[pos]) & 0xC0) != 0x80) {
      return std::nullopt;
    }
    point = (point << 6) | (static_cast<unsigned char>(text[pos++]) & 0x3F);
  }
  if (point < lead->smallest || point > 0x10FFFF || (point >= 0xD800 && point <= 0xDFFF)) {
    return std::nullopt;
  }
  return point;
}

// C0, DEL and C1 controls, and the Unicode line and paragraph separators:
// each would break a line of a mail header or of a calendar entry, or show
// as nothing.
bool is_control(char32_t point) {
  return point < 0x20 || (point >= 0x7F && point <= 0x9F) || point == 0x2028 || point == 0x2029;
}

// Bidirectional embeddings, overrides (U+202A to U+202E) and isolates
// (U+2066 to U+2069): they reorder the text around them, so a title could
// show other people something else than it says. The marks U+200E, U+200F
// and U+061C are allowed: mixed right-to-left and left-to-right titles need
// them, and they reorder nothing beyond themselves.
bool is_bidi_control(char32_t point) {
  return (point >= 0x202A && point <= 0x202E) || (point >= 0x2066 && point <= 0x2069);
}

// Why a title is refused (SPEC §7), or nullopt.
std::optional<std::string> title_problem(std::string_view title) {
  bool control = false;
  bool bidi = false;
  for (std::size_t pos = 0; pos < title.size();) {
    const auto point = next_code_point(title, pos);
    if (!point) {
      return "Not valid UTF-8.";
    }
    control = control || is_control(*point);
    bidi = bidi || is_bidi_control(*point);
  }
  if (control) {
    return "Control characters (such as line breaks, C1 controls or DEL) are not allowed.";
  }
  if (bidi) {
    return "Bidirectional overrides and isolates (U+202A to U+202E, U+2066 to U+2069) are not allowed.";
  }
  return std::nullopt;
}

// slot_from_proto()'s sentence about one of its fields ("begin: out of
// range."), for a violation that names the field itself: "Out of range."
std::string without_field_name(std::string_view why, std::string_view prefix) {
  std::string text(why.starts_with(prefix) ? why.substr(prefix.size()) : why);
  if (!text.empty() && text.front() >= 'a' && text.front() <= 'z') {
    text.front() = static_cast<char>(text.front() - 'a' + 'A');
  }
  return text;
}

}  // namespace

std::vector<std::string> validate_parties(const google::protobuf::RepeatedPtrField<std::string>& parties,
                                          std::vector<FieldViolation>& violations, Presence presence) {
  if (presence == Presence::kRequired && parties.empty()) {
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
  const auto first = title.find_first_not_of(' ');
  if (first == std::string::npos) {
    return "";
  }
  const auto last = title.find_last_not_of(' ');
  std::string trimmed = title.substr(first, last - first + 1);
  // Checked on the trimmed title: a tab or line break at either end is
  // refused too, not silently dropped.
  if (const auto problem = title_problem(trimmed)) {
    violations.push_back({"title", *problem});
    return trimmed;
  }
  if (utf8_length(trimmed) > limits::kMaxTitleLength) {
    violations.push_back({"title", "Ensure this field has no more than " +
                                       std::to_string(limits::kMaxTitleLength) + " characters."});
  }
  return trimmed;
}

Instant validate_respond_by(const google::protobuf::Timestamp& at, Instant now,
                            std::vector<FieldViolation>& violations) {
  // The checks of a slot's begin (time_slot.h), with a length that passes.
  calndro::common::v1::TimeSlot as_slot;
  *as_slot.mutable_begin() = at;
  as_slot.mutable_duration()->set_seconds(1);
  const auto slot = slot_from_proto(as_slot);
  if (!slot.ok()) {
    violations.push_back({"respond_by", without_field_name(std::string(slot.status().message()), "begin: ")});
    return now;  // unused: the request is refused
  }
  if (slot->begin <= now) {
    violations.push_back({"respond_by", "Must be in the future."});
  }
  return slot->begin;
}

Micros validate_remind_before(const google::protobuf::Duration& lead,
                              std::vector<FieldViolation>& violations) {
  // The checks of a slot's duration, with a begin that passes.
  calndro::common::v1::TimeSlot as_slot;
  as_slot.mutable_begin()->set_seconds(0);
  *as_slot.mutable_duration() = lead;
  const auto slot = slot_from_proto(as_slot);
  if (!slot.ok()) {
    violations.push_back(
        {"remind_before", without_field_name(std::string(slot.status().message()), "duration: ")});
    return Micros(0);  // unused: the request is refused
  }
  return slot->duration;
}

}  // namespace calndro::events
