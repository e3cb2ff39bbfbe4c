#include "gateway/api/json_mapping.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "gateway/api/poll_mapping.h"

namespace calndro::gateway {

using nlohmann::json;

namespace {

constexpr const char* kNotString = "Not a valid string.";
constexpr const char* kNotList = "Expected a list of items.";
constexpr int kMaxNesting = 64;

// nlohmann's parser is iterative, but callers recurse over values: bound
// the nesting before parsing (brackets inside strings do not count).
bool nesting_within(std::string_view text, int limit) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) {
        return false;
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

bool is_blank(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
}

// A required string field of an object; adds "<prefix>: <message>" to `errors` under `field`.
std::optional<std::string> string_member(const json& object, const char* name, const std::string& field,
                                         const std::string& prefix, FieldErrors& errors) {
  auto it = object.find(name);
  if (it == object.end()) {
    errors.add(field, prefix + name + ": This field is required.");
    return std::nullopt;
  }
  if (!it->is_string()) {
    errors.add(field, prefix + name + ": " + kNotString);
    return std::nullopt;
  }
  return it->get<std::string>();
}

void parse_string_list(const json& value, const std::string& field,
                       google::protobuf::RepeatedPtrField<std::string>* out, FieldErrors& errors) {
  if (!value.is_array()) {
    errors.add(field, kNotList);
    return;
  }
  std::size_t index = 0;
  for (const auto& item : value) {
    ++index;
    if (!item.is_string()) {
      errors.add(field, "Item " + std::to_string(index) + ": " + kNotString);
      continue;
    }
    out->Add(item.get<std::string>());
  }
}

const json* member(const json& body, const char* name) {
  auto it = body.find(name);
  return it == body.end() ? nullptr : &*it;
}

}  // namespace

void FieldErrors::add(const std::string& field, std::string message) {
  errors_[field].push_back(std::move(message));
}

std::optional<json> parse_json_object(std::string_view body, std::string& error) {
  if (is_blank(body)) {
    return json::object();
  }
  if (!nesting_within(body, kMaxNesting)) {
    error = "JSON parse error: nested too deeply.";
    return std::nullopt;
  }
  json parsed = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    error = "JSON parse error: the body is not valid JSON.";
    return std::nullopt;
  }
  if (!parsed.is_object()) {
    error = "The body must be a JSON object.";
    return std::nullopt;
  }
  return parsed;
}

namespace {

// base + "/ID/" + suffix, written into `out` (reused: no string per URL).
const std::string& url_into(std::string& out, const std::string& base, int64_t id, std::string_view suffix) {
  out.assign(base);
  out.push_back('/');
  out += std::to_string(id);
  out.push_back('/');
  out.append(suffix);
  return out;
}

void write_string_list(JsonWriter& writer, const google::protobuf::RepeatedPtrField<std::string>& items) {
  writer.begin_array();
  for (const auto& item : items) {
    writer.string(item);
  }
  writer.end_array();
}

void write_value(JsonWriter& writer, const google::protobuf::Value& value);

// A whole number as an integer (Struct holds every number as a double, and
// SPEC §10 hashes a log entry's data with integers only); any other in
// nlohmann's spelling of a double.
void write_number(JsonWriter& writer, double number) {
  constexpr double kExactIntegers = 9007199254740992.0;  // 2^53
  if (std::isfinite(number) && std::trunc(number) == number && std::fabs(number) <= kExactIntegers) {
    writer.number(static_cast<std::int64_t>(number));
  } else {
    writer.value(number);
  }
}

void write_struct(JsonWriter& writer, const google::protobuf::Struct& value) {
  // Sorted keys: protobuf's map order is unspecified.
  std::vector<const std::string*> keys;
  keys.reserve(value.fields().size());
  for (const auto& [key, unused] : value.fields()) {
    keys.push_back(&key);
  }
  std::sort(keys.begin(), keys.end(), [](const std::string* a, const std::string* b) { return *a < *b; });
  writer.begin_object();
  for (const std::string* key : keys) {
    writer.key(*key);
    write_value(writer, value.fields().at(*key));
  }
  writer.end_object();
}

void write_value(JsonWriter& writer, const google::protobuf::Value& value) {
  switch (value.kind_case()) {
    case google::protobuf::Value::kNumberValue:
      write_number(writer, value.number_value());
      break;
    case google::protobuf::Value::kStringValue:
      writer.string(value.string_value());
      break;
    case google::protobuf::Value::kBoolValue:
      writer.value(value.bool_value());
      break;
    case google::protobuf::Value::kStructValue:
      write_struct(writer, value.struct_value());
      break;
    case google::protobuf::Value::kListValue:
      writer.begin_array();
      for (const auto& item : value.list_value().values()) {
        write_value(writer, item);
      }
      writer.end_array();
      break;
    case google::protobuf::Value::kNullValue:
    default:
      writer.value(nullptr);
  }
}

// "UPDATE" for OCCURRENCE_UPDATE: the proto's value names without their prefix.
std::string_view occurrence_name(v1::Occurrence occurrence) {
  constexpr std::string_view kPrefix = "OCCURRENCE_";
  std::string_view name = v1::Occurrence_Name(occurrence);
  name.remove_prefix(std::min(kPrefix.size(), name.size()));
  return name.empty() ? "UNSPECIFIED" : name;
}

void write_log_entry(JsonWriter& writer, const v1::LogEntry& entry) {
  writer.begin_object();
  writer.key("id").number(entry.id());
  write_instant(writer.key("when"), entry.when());
  writer.key("occurrence").string(occurrence_name(entry.occurrence()));
  writer.key("effector").string(entry.effector());
  writer.key("slots");
  write_slots(writer, entry.slots());
  writer.key("data");
  write_struct(writer, entry.data());
  // Null until the entry is sealed into its chain (SPEC §10).
  if (entry.has_seq()) {
    writer.key("seq").number(entry.seq());
    writer.key("prev").string(entry.prev());
    writer.key("hash").string(entry.hash());
  } else {
    writer.key("seq").value(nullptr);
    writer.key("prev").value(nullptr);
    writer.key("hash").value(nullptr);
  }
  writer.end_object();
}

void write_log_head(JsonWriter& writer, const v1::EventLog& log) {
  if (!log.has_head()) {
    writer.value(nullptr);
    return;
  }
  writer.begin_object();
  writer.key("seq").number(log.head().seq());
  writer.key("hash").string(log.head().hash());
  write_instant(writer.key("signed_at"), log.head().signed_at());
  writer.key("signature").string(log.head().signature());
  writer.end_object();
}

// A body in one allocation for the usual sizes (`expected_size`: a guess).
std::string body_of(std::size_t expected_size, const std::function<void(JsonWriter&)>& write) {
  std::string out;
  out.reserve(expected_size);
  JsonWriter writer(out);
  write(writer);
  return out;
}

}  // namespace

void write_instant(JsonWriter& writer, const google::protobuf::Timestamp& at) {
  writer.plain_string([&](std::string& out) { append_instant(out, instant_from_proto(at)); });
}

void write_duration(JsonWriter& writer, const google::protobuf::Duration& length) {
  writer.plain_string([&](std::string& out) { append_duration(out, duration_from_proto(length)); });
}

void write_optional_slot(JsonWriter& writer, const calndro::common::v1::TimeSlot* slot) {
  if (slot != nullptr) {
    write_slot(writer, *slot);
  } else {
    writer.value(nlohmann::json());
  }
}

void write_slot(JsonWriter& writer, const calndro::common::v1::TimeSlot& slot) {
  writer.begin_object();
  write_instant(writer.key("begin"), slot.begin());
  write_duration(writer.key("duration"), slot.duration());
  writer.end_object();
}

void write_slots(JsonWriter& writer,
                 const google::protobuf::RepeatedPtrField<calndro::common::v1::TimeSlot>& slots) {
  writer.begin_array();
  for (const auto& slot : slots) {
    write_slot(writer, slot);
  }
  writer.end_array();
}

void write_event(JsonWriter& writer, const v1::Event& event, const std::string& base, std::string& scratch) {
  writer.begin_object();
  writer.key("id").number(event.id());
  writer.key("url").string(url_into(scratch, base, event.id(), ""));
  writer.key("log_url").string(url_into(scratch, base, event.id(), "log/"));
  writer.key("notify_url").string(url_into(scratch, base, event.id(), "notify/"));
  writer.key("title").string(event.title());
  writer.key("parties");
  write_string_list(writer, event.parties());
  writer.key("slots");
  write_slots(writer, event.slots());
  writer.key("state").string(event.state() == v1::EVENT_STATE_AGREED ? "agreed" : "open");
  writer.key("agreed_slot");
  write_optional_slot(writer, event.has_agreed_slot() ? &event.agreed_slot() : nullptr);
  writer.key("ics_url").string(url_into(scratch, base, event.id(), "event.ics"));
  write_poll(writer, event);
  writer.end_object();
}

// Typical sizes: an event with 3 parties and 3 slots is about 450 bytes, a
// log entry about 200.
constexpr std::size_t kEventBytes = 512;
constexpr std::size_t kLogEntryBytes = 256;

std::string event_body(const v1::Event& event, const std::string& base) {
  return body_of(kEventBytes, [&](JsonWriter& writer) {
    std::string scratch;
    write_event(writer, event, base, scratch);
  });
}

std::string event_list_body(const google::protobuf::RepeatedPtrField<v1::Event>& events,
                            const std::string& base) {
  return body_of(kEventBytes * (events.size() + 1), [&](JsonWriter& writer) {
    std::string scratch;
    writer.begin_array();
    for (const auto& event : events) {
      write_event(writer, event, base, scratch);
    }
    writer.end_array();
  });
}

std::string event_log_body(const v1::EventLog& log, int64_t event_id, const std::string& base) {
  return body_of(kLogEntryBytes * (log.entries_size() + 2), [&](JsonWriter& writer) {
    std::string scratch;
    writer.begin_object();
    writer.key("event").string(url_into(scratch, base, event_id, ""));
    writer.key("parties");
    write_string_list(writer, log.parties());
    writer.key("entries").begin_array();
    for (const auto& entry : log.entries()) {
      write_log_entry(writer, entry);
    }
    writer.end_array();
    writer.key("head");
    write_log_head(writer, log);
    writer.end_object();
  });
}

std::string notify_response_body(const v1::NotifyPartiesResponse& response, int64_t event_id,
                                 const std::string& base) {
  return body_of(kEventBytes, [&](JsonWriter& writer) {
    std::string scratch;
    writer.begin_object();
    writer.key("parties");
    write_string_list(writer, response.parties());
    writer.key("slots");
    write_slots(writer, response.slots());
    writer.key("sender").string(response.sender());
    writer.key("event_url").string(url_into(scratch, base, event_id, ""));
    writer.key("log_url").string(url_into(scratch, base, event_id, "log/"));
    writer.key("notify_url").string(url_into(scratch, base, event_id, "notify/"));
    writer.end_object();
  });
}

// One slot object into `out`; errors go to `field`, each message prefixed.
bool parse_slot(const json& item, const std::string& field, const std::string& prefix,
                calndro::common::v1::TimeSlot& out, FieldErrors& errors) {
  if (!item.is_object()) {
    errors.add(field, prefix + "Expected an object with begin and duration.");
    return false;
  }
  auto begin_text = string_member(item, "begin", field, prefix, errors);
  auto duration_text = string_member(item, "duration", field, prefix, errors);
  absl::StatusOr<Instant> begin = absl::InvalidArgumentError("absent");
  absl::StatusOr<Micros> duration = absl::InvalidArgumentError("absent");
  if (begin_text) {
    begin = parse_instant(*begin_text);
    if (!begin.ok()) {
      errors.add(field, prefix + "begin: " + std::string(begin.status().message()));
    }
  }
  if (duration_text) {
    duration = parse_duration(*duration_text);
    if (!duration.ok()) {
      errors.add(field, prefix + "duration: " + std::string(duration.status().message()));
    }
  }
  if (!begin.ok() || !duration.ok()) {
    return false;
  }
  *out.mutable_begin() = instant_to_proto(*begin);
  *out.mutable_duration() = duration_to_proto(*duration);
  return true;
}

void parse_slots(const json& value, google::protobuf::RepeatedPtrField<calndro::common::v1::TimeSlot>* out,
                 FieldErrors& errors) {
  if (!value.is_array()) {
    errors.add("slots", "Expected a list of slots, each {\"begin\": ..., \"duration\": ...}.");
    return;
  }
  std::size_t index = 0;
  for (const auto& item : value) {
    ++index;
    calndro::common::v1::TimeSlot slot;
    if (parse_slot(item, "slots", "Slot " + std::to_string(index) + ": ", slot, errors)) {
      *out->Add() = std::move(slot);
    }
  }
}

void agree_request_from_json(const json& body, v1::AgreeEventRequest& out, FieldErrors& errors) {
  const json* slot = member(body, "slot");
  if (slot == nullptr || slot->is_null()) {
    errors.add("slot", "This field is required: the slot to agree on, {\"begin\": ..., \"duration\": ...}.");
    return;
  }
  parse_slot(*slot, "slot", "", *out.mutable_slot(), errors);
}

void create_request_from_json(const json& body, v1::CreateEventRequest& out, FieldErrors& errors) {
  if (const json* title = member(body, "title"); title != nullptr) {
    if (title->is_string()) {
      out.set_title(title->get<std::string>());
    } else if (!title->is_null()) {
      errors.add("title", kNotString);
    }
  }
  if (const json* parties = member(body, "parties"); parties != nullptr) {
    parse_string_list(*parties, "parties", out.mutable_parties(), errors);
  }
  // A repeated proto field cannot tell "absent" from "empty", so the JSON body is
  // the only place where a missing `slots` can be seen.
  if (const json* slots = member(body, "slots"); slots != nullptr) {
    parse_slots(*slots, out.mutable_slots(), errors);
  } else {
    errors.add("slots", "This field is required.");
  }
  create_poll_from_json(body, out, errors);
}

bool update_request_from_json(const json& body, v1::UpdateEventRequest& out, FieldErrors& errors) {
  bool any = false;
  // `parties` is ignored: parties never change after creation.
  if (const json* title = member(body, "title"); title != nullptr) {
    any = true;
    if (title->is_string()) {
      out.set_title(title->get<std::string>());
    } else {
      errors.add("title", kNotString);
    }
  }
  if (const json* slots = member(body, "slots"); slots != nullptr) {
    any = true;
    parse_slots(*slots, out.mutable_slots()->mutable_slots(), errors);
  }
  return update_poll_from_json(body, out, errors) || any;
}

void notify_request_from_json(const json& body, v1::NotifyPartiesRequest& out, FieldErrors& errors) {
  if (const json* parties = member(body, "parties"); parties != nullptr) {
    parse_string_list(*parties, "parties", out.mutable_parties(), errors);
  }
  if (const json* slots = member(body, "slots"); slots != nullptr) {
    parse_slots(*slots, out.mutable_slots(), errors);
  }
  if (const json* sender = member(body, "sender"); sender != nullptr && !sender->is_null()) {
    if (sender->is_string()) {
      out.set_sender(sender->get<std::string>());
    } else {
      errors.add("sender", kNotString);
    }
  }
  if (const json* invitation = member(body, "invitation"); invitation != nullptr && !invitation->is_null()) {
    if (invitation->is_boolean()) {
      out.set_invitation(invitation->get<bool>());
    } else {
      errors.add("invitation", "Must be a valid boolean.");
    }
  }
}

void api_token_request_from_json(const json& body, v1::CreateApiTokenRequest& out, FieldErrors& errors) {
  for (const char* name : {"username", "password"}) {
    const json* value = member(body, name);
    if (value == nullptr) {
      errors.add(name, "This field is required.");
    } else if (!value->is_string()) {
      errors.add(name, kNotString);
    } else if (std::string_view(name) == "username") {
      out.set_username(value->get<std::string>());
    } else {
      out.set_password(value->get<std::string>());
    }
  }
}

std::string dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace calndro::gateway
