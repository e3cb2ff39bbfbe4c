#include "gateway/api/poll_mapping.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>

namespace calndro::gateway {

using nlohmann::json;

namespace {

constexpr std::pair<v1::Answer, std::string_view> kAnswerWords[] = {
    {v1::ANSWER_YES, "yes"}, {v1::ANSWER_MAYBE, "maybe"}, {v1::ANSWER_NO, "no"}};

constexpr const char* kNotAnswerList =
    "Expected a list of answers, each {\"slot\": {\"begin\": ..., \"duration\": ...}, \"answer\": "
    "\"yes\"|\"maybe\"|\"no\"}.";

// SPEC §9's word for an answer; empty for ANSWER_UNSPECIFIED (pending).
std::string_view answer_word(int answer) {
  for (const auto& [value, word] : kAnswerWords) {
    if (value == answer) {
      return word;
    }
  }
  return {};
}

std::optional<v1::Answer> answer_from_word(std::string_view word) {
  for (const auto& [value, known] : kAnswerWords) {
    if (known == word) {
      return value;
    }
  }
  return std::nullopt;
}

const json* find_member(const json& body, const char* name) {
  auto it = body.find(name);
  return it == body.end() ? nullptr : &*it;
}

// party -> [{"slot", "answer"}, ...]: each row's answers stand beside the
// event's slots, one per slot (events.proto PartyAnswers); pending ones are
// left out.
void write_answers(JsonWriter& writer, const v1::Event& event) {
  writer.begin_object();
  for (const v1::PartyAnswers& row : event.answers()) {
    writer.key(row.party()).begin_array();
    const int count = std::min(row.answers_size(), event.slots_size());
    for (int i = 0; i < count; ++i) {
      const std::string_view word = answer_word(row.answers(i));
      if (word.empty()) {
        continue;
      }
      writer.begin_object().key("slot");
      write_slot(writer, event.slots(i));
      writer.key("answer").string(word);
      writer.end_object();
    }
    writer.end_array();
  }
  writer.end_object();
}

void write_tally(JsonWriter& writer, const v1::Event& event) {
  writer.begin_array();
  for (const v1::TallyRow& row : event.tally()) {
    writer.begin_object().key("slot");
    write_slot(writer, row.slot());
    writer.key("yes").number(row.yes());
    writer.key("maybe").number(row.maybe());
    writer.key("no").number(row.no());
    writer.key("pending").number(row.pending());
    writer.end_object();
  }
  writer.end_array();
}

// One item of the answers list into `out`; false when it is not one.
bool parse_answer(const json& item, int index, v1::SlotAnswer& out, FieldErrors& errors) {
  const std::string prefix = "Answer " + std::to_string(index) + ": ";
  if (!item.is_object()) {
    errors.add("answers", prefix + "Expected an object with slot and answer.");
    return false;
  }
  bool ok = true;
  if (const json* slot = find_member(item, "slot"); slot == nullptr) {
    errors.add("answers", prefix + "slot: This field is required.");
    ok = false;
  } else {
    ok = parse_slot(*slot, "answers", prefix + "slot: ", *out.mutable_slot(), errors);
  }
  const json* word = find_member(item, "answer");
  const auto answer =
      word != nullptr && word->is_string() ? answer_from_word(word->get<std::string>()) : std::nullopt;
  if (!answer) {
    errors.add("answers", prefix + "answer: Must be \"yes\", \"maybe\" or \"no\".");
    return false;
  }
  out.set_answer(*answer);
  return ok;
}

// An instant field into `out`; errors under `name`.
void parse_instant_field(const json& value, const char* name, google::protobuf::Timestamp& out,
                         FieldErrors& errors) {
  if (!value.is_string()) {
    errors.add(name, "Expected a date-time such as \"2030-11-02T14:00Z\", or null.");
    return;
  }
  const auto instant = parse_instant(value.get<std::string>());
  if (!instant.ok()) {
    errors.add(name, std::string(instant.status().message()));
    return;
  }
  out = instant_to_proto(*instant);
}

void parse_duration_field(const json& value, const char* name, google::protobuf::Duration& out,
                          FieldErrors& errors) {
  if (!value.is_string()) {
    errors.add(name, "Expected a duration such as \"24:00\" or \"PT2H\".");
    return;
  }
  const auto duration = parse_duration(value.get<std::string>());
  if (!duration.ok()) {
    errors.add(name, std::string(duration.status().message()));
    return;
  }
  out = duration_to_proto(*duration);
}

}  // namespace

void write_poll(JsonWriter& writer, const v1::Event& event) {
  writer.key("respond_by");
  if (event.has_respond_by()) {
    write_instant(writer, event.respond_by());
  } else {
    writer.value(json());
  }
  writer.key("remind_before");
  write_duration(writer, event.remind_before());
  writer.key("hide_answers").value(event.hide_answers());
  writer.key("answers");
  write_answers(writer, event);
  writer.key("tally");
  write_tally(writer, event);
  writer.key("best_slot");
  write_optional_slot(writer, event.has_best_slot() ? &event.best_slot() : nullptr);
}

void answers_request_from_json(const json& body, v1::AnswerSlotsRequest& out, FieldErrors& errors) {
  const json* answers = find_member(body, "answers");
  if (answers == nullptr) {
    errors.add("answers", "This field is required.");
    return;
  }
  if (!answers->is_array()) {
    errors.add("answers", kNotAnswerList);
    return;
  }
  int index = 0;
  for (const json& item : *answers) {
    v1::SlotAnswer answer;
    if (parse_answer(item, ++index, answer, errors)) {
      *out.add_answers() = std::move(answer);
    }
  }
}

void create_poll_from_json(const json& body, v1::CreateEventRequest& out, FieldErrors& errors) {
  if (const json* respond_by = find_member(body, "respond_by");
      respond_by != nullptr && !respond_by->is_null()) {
    parse_instant_field(*respond_by, "respond_by", *out.mutable_respond_by(), errors);
  }
  if (const json* lead = find_member(body, "remind_before"); lead != nullptr && !lead->is_null()) {
    parse_duration_field(*lead, "remind_before", *out.mutable_remind_before(), errors);
  }
  if (const json* hide = find_member(body, "hide_answers"); hide != nullptr && !hide->is_null()) {
    if (hide->is_boolean()) {
      out.set_hide_answers(hide->get<bool>());
    } else {
      errors.add("hide_answers", "Must be a valid boolean.");
    }
  }
}

bool update_poll_from_json(const json& body, v1::UpdateEventRequest& out, FieldErrors& errors) {
  const json* respond_by = find_member(body, "respond_by");
  if (respond_by != nullptr) {
    v1::RespondBy& change = *out.mutable_respond_by();  // present: set, or with null cleared
    if (!respond_by->is_null()) {
      parse_instant_field(*respond_by, "respond_by", *change.mutable_at(), errors);
    }
  }
  const json* lead = find_member(body, "remind_before");
  if (lead != nullptr) {
    parse_duration_field(*lead, "remind_before", *out.mutable_remind_before(), errors);
  }
  return respond_by != nullptr || lead != nullptr;
}

}  // namespace calndro::gateway
