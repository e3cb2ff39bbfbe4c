#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace calndro::gateway {

// Writes a JSON document straight into a string: the response bodies built
// from protos (an event, a page of events or of log entries). nlohmann/json
// has no streaming writer, and building its document first cost thousands
// of small allocations per page, the largest item in the gateway's profile
// (docs/PERFORMANCE.md). Numbers, and strings that need escaping, are still
// written by nlohmann's serializer (escaping, invalid UTF-8 replaced);
// printable ASCII without quotes or backslashes is copied as it is, the
// same bytes. This class places the punctuation.
class JsonWriter {
 public:
  explicit JsonWriter(std::string& out);
  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view name);
  JsonWriter& string(std::string_view text);
  JsonWriter& number(std::int64_t value);
  // Any small value, serialised by nlohmann as dump() would.
  JsonWriter& value(const nlohmann::json& value);
  // A string whose characters need no escaping (digits, times), appended
  // to the output by `append(std::string&)` between the quotes.
  template <typename Append>
  JsonWriter& plain_string(Append&& append) {
    separate();
    out_.push_back('"');
    append(out_);
    out_.push_back('"');
    return *this;
  }

 private:
  JsonWriter& open(char bracket);
  JsonWriter& close(char bracket);
  // A comma before every item of a container but its first.
  void separate();
  void escaped(std::string_view text);

  std::string& out_;
  std::vector<bool> container_is_empty_;
  bool after_key_ = false;
  nlohmann::json scratch_ = "";  // a string value, reused to escape each string
  nlohmann::detail::serializer<nlohmann::json> serializer_;
};

}  // namespace calndro::gateway
