#include "common/base/log.h"

#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>

#include "common/text/time_format.h"

namespace calndro::log {
namespace {

std::string& service_name() {
  static std::string name = "calndro";
  return name;
}

void write(std::string_view level, std::string_view message, nlohmann::json fields) {
  nlohmann::json line = nlohmann::json::object();
  line["ts"] = format_instant(
      std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now()));
  line["level"] = level;
  line["service"] = service_name();
  line["msg"] = message;
  if (fields.is_object()) {
    for (auto& [key, value] : fields.items()) {
      line[key] = std::move(value);
    }
  }
  // replace: a stray invalid UTF-8 byte from user input must not throw here.
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text.push_back('\n');
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

}  // namespace

void set_service_name(std::string_view name) {
  service_name() = std::string(name);
}
void info(std::string_view message, nlohmann::json fields) {
  write("info", message, std::move(fields));
}
void warn(std::string_view message, nlohmann::json fields) {
  write("warn", message, std::move(fields));
}
void error(std::string_view message, nlohmann::json fields) {
  write("error", message, std::move(fields));
}

}  // namespace calndro::log
