#include "gateway/json_mapping.h"

#include <algorithm>

namespace calndro::gateway {

using nlohmann::json;

namespace {

constexpr const char* kNotString = "Not a valid string.";
constexpr const char* kNotList = "Expected a list of items.";
constexpr int kMaxNesting = 64;
constexpr int64_t kMicrosPerSecond = 1'000'000;

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
  return std::all_of(text.begin(), text.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
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

void parse_string_list(const json& value, const std::string& field, google::protobuf::RepeatedPtrField<std::string>* out,
                       FieldErrors& errors) {
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

void FieldErrors::add(const std::string& field, std::string message) { errors_[field].push_back(std::move(message)); }

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

google::protobuf::Timestamp to_timestamp(Instant instant) {
  const int64_t micros = instant.time_since_epoch().count();
  int64_t seconds = micros / kMicrosPerSecond;
  int64_t rest = micros % kMicrosPerSecond;
  if (rest < 0) {
    rest += kMicrosPerSecond;
    seconds -= 1;
  }
  google::protobuf::Timestamp out;
  out.set_seconds(seconds);
  out.set_nanos(static_cast<int32_t>(rest * 1000));
  return out;
}

google::protobuf::Duration to_duration(Micros duration) {
  const int64_t micros = duration.count();
  google::protobuf::Duration out;
  out.set_seconds(micros / kMicrosPerSecond);
  out.set_nanos(static_cast<int32_t>((micros % kMicrosPerSecond) * 1000));
  return out;
}

Instant from_timestamp(const google::protobuf::Timestamp& timestamp) {
  return Instant(Micros(timestamp.seconds() * kMicrosPerSecond + timestamp.nanos() / 1000));
}

Micros from_duration(const google::protobuf::Duration& duration) {
  return Micros(duration.seconds() * kMicrosPerSecond + duration.nanos() / 1000);
}

std::string event_url(const std::string& base, int64_t id) { return base + "/" + std::to_string(id) + "/"; }
std::string log_url(const std::string& base, int64_t id) { return event_url(base, id) + "log/"; }
std::string notify_url(const std::string& base, int64_t id) { return event_url(base, id) + "notify/"; }

json slots_to_json(const google::protobuf::RepeatedPtrField<calndro::common::v1::TimeSlot>& slots) {
  json out = json::array();
  for (const auto& slot : slots) {
    out.push_back({{"begin", format_instant(from_timestamp(slot.begin()))},
                   {"duration", format_duration(from_duration(slot.duration()))}});
  }
  return out;
}

json event_to_json(const v1::Event& event, const std::string& base) {
  json out = json::object();
  out["id"] = event.id();
  out["url"] = event_url(base, event.id());
  out["log_url"] = log_url(base, event.id());
  out["notify_url"] = notify_url(base, event.id());
  out["title"] = event.title();
  out["parties"] = json(std::vector<std::string>(event.parties().begin(), event.parties().end()));
  out["slots"] = slots_to_json(event.slots());
  return out;
}

namespace {

json value_to_json(const google::protobuf::Value& value) {
  switch (value.kind_case()) {
    case google::protobuf::Value::kNumberValue:
      return value.number_value();
    case google::protobuf::Value::kStringValue:
      return value.string_value();
    case google::protobuf::Value::kBoolValue:
      return value.bool_value();
    case google::protobuf::Value::kStructValue:
      return struct_to_json(value.struct_value());
    case google::protobuf::Value::kListValue: {
      json out = json::array();
      for (const auto& item : value.list_value().values()) {
        out.push_back(value_to_json(item));
      }
      return out;
    }
    case google::protobuf::Value::kNullValue:
    default:
      return nullptr;
  }
}

const char* occurrence_name(v1::Occurrence occurrence) {
  switch (occurrence) {
    case v1::OCCURRENCE_UPDATE:
      return "UPDATE";
    case v1::OCCURRENCE_NOTIFY:
      return "NOTIFY";
    case v1::OCCURRENCE_VIEW:
      return "VIEW";
    default:
      return "UNSPECIFIED";
  }
}

}  // namespace

json struct_to_json(const google::protobuf::Struct& value) {
  json out = json::object();
  // Sorted keys: protobuf's map order is unspecified.
  std::vector<std::string> keys;
  for (const auto& [key, unused] : value.fields()) {
    keys.push_back(key);
  }
  std::sort(keys.begin(), keys.end());
  for (const auto& key : keys) {
    out[key] = value_to_json(value.fields().at(key));
  }
  return out;
}

json log_entry_to_json(const v1::LogEntry& entry) {
  json out = json::object();
  out["id"] = entry.id();
  out["when"] = format_instant(from_timestamp(entry.when()));
  out["occurrence"] = occurrence_name(entry.occurrence());
  out["effector"] = entry.effector();
  out["slots"] = slots_to_json(entry.slots());
  out["data"] = struct_to_json(entry.data());
  return out;
}

json event_log_to_json(const v1::EventLog& log, int64_t event_id, const std::string& base) {
  json out = json::object();
  out["event"] = event_url(base, event_id);
  out["parties"] = json(std::vector<std::string>(log.parties().begin(), log.parties().end()));
  json entries = json::array();
  for (const auto& entry : log.entries()) {
    entries.push_back(log_entry_to_json(entry));
  }
  out["entries"] = std::move(entries);
  return out;
}

json notify_response_to_json(const v1::NotifyPartiesResponse& response, int64_t event_id, const std::string& base) {
  json out = json::object();
  out["parties"] = json(std::vector<std::string>(response.parties().begin(), response.parties().end()));
  out["slots"] = slots_to_json(response.slots());
  out["sender"] = response.sender();
  out["event_url"] = event_url(base, event_id);
  out["log_url"] = log_url(base, event_id);
  out["notify_url"] = notify_url(base, event_id);
  return out;
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
    const std::string prefix = "Slot " + std::to_string(index) + ": ";
    if (!item.is_object()) {
      errors.add("slots", prefix + "Expected an object with begin and duration.");
      continue;
    }
    auto begin_text = string_member(item, "begin", "slots", prefix, errors);
    auto duration_text = string_member(item, "duration", "slots", prefix, errors);
    std::optional<Instant> begin;
    std::optional<Micros> duration;
    std::string error;
    if (begin_text) {
      begin = parse_instant(*begin_text, error);
      if (!begin) {
        errors.add("slots", prefix + "begin: " + error);
      }
    }
    if (duration_text) {
      error.clear();
      duration = parse_duration(*duration_text, error);
      if (!duration) {
        errors.add("slots", prefix + "duration: " + error);
      }
    }
    if (begin && duration) {
      auto* slot = out->Add();
      *slot->mutable_begin() = to_timestamp(*begin);
      *slot->mutable_duration() = to_duration(*duration);
    }
  }
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
  if (const json* slots = member(body, "slots"); slots != nullptr) {
    parse_slots(*slots, out.mutable_slots(), errors);
  }
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
  return any;
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
  // json::dump() grows its string from empty; a page of a hundred events or
  // log entries is tens of KiB, and each doubling was a large malloc (with
  // malloc_consolidate) in the bench profile. Same serializer, reserved
  // output: what json::dump(-1, ' ', false, replace) does, minus the growth.
  std::string out;
  out.reserve(16 * 1024);  // one allocation for most bodies, freed with the response
  nlohmann::detail::serializer<json> serializer(nlohmann::detail::output_adapter<char, std::string>(out), ' ',
                                                json::error_handler_t::replace);
  serializer.dump(value, false, false, 0);
  return out;
}

}  // namespace calndro::gateway
