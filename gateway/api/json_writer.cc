#include "gateway/api/json_writer.h"

#include <charconv>

namespace calndro::gateway {

JsonWriter::JsonWriter(std::string& out)
    : out_(out),
      serializer_(nlohmann::detail::output_adapter<char, std::string>(out), ' ',
                  nlohmann::json::error_handler_t::replace) {}

void JsonWriter::separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!container_is_empty_.empty()) {
    if (!container_is_empty_.back()) {
      out_.push_back(',');
    }
    container_is_empty_.back() = false;
  }
}

namespace {

// Printable ASCII other than the quote and the backslash: written as it is,
// as nlohmann's serializer would (keys, URLs, emails, times, most titles).
bool needs_no_escaping(std::string_view text) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x80 || c == '"' || c == '\\') {
      return false;
    }
  }
  return true;
}

}  // namespace

void JsonWriter::escaped(std::string_view text) {
  if (needs_no_escaping(text)) {
    // The serializer decodes UTF-8 byte by byte: on a page of events it was
    // a seventh of the gateway's profile (docs/PERFORMANCE.md).
    out_.push_back('"');
    out_.append(text);
    out_.push_back('"');
    return;
  }
  scratch_.get_ref<std::string&>().assign(text);
  serializer_.dump(scratch_, /*pretty_print=*/false, /*ensure_ascii=*/false, 0);
}

JsonWriter& JsonWriter::open(char bracket) {
  separate();
  out_.push_back(bracket);
  container_is_empty_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::close(char bracket) {
  container_is_empty_.pop_back();
  out_.push_back(bracket);
  return *this;
}

JsonWriter& JsonWriter::begin_object() {
  return open('{');
}
JsonWriter& JsonWriter::end_object() {
  return close('}');
}
JsonWriter& JsonWriter::begin_array() {
  return open('[');
}
JsonWriter& JsonWriter::end_array() {
  return close(']');
}

JsonWriter& JsonWriter::key(std::string_view name) {
  separate();
  escaped(name);
  out_.push_back(':');
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::string(std::string_view text) {
  separate();
  escaped(text);
  return *this;
}

JsonWriter& JsonWriter::number(std::int64_t value) {
  separate();
  char digits[24];
  const auto [end, error] = std::to_chars(digits, digits + sizeof digits, value);
  out_.append(digits, end);
  return *this;
}

JsonWriter& JsonWriter::value(const nlohmann::json& value) {
  separate();
  serializer_.dump(value, /*pretty_print=*/false, /*ensure_ascii=*/false, 0);
  return *this;
}

}  // namespace calndro::gateway
