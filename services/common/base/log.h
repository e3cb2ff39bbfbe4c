#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

namespace calndro::log {

// One JSON object per line on stderr: {"ts","level","service","msg",...fields}.
// nlohmann escapes every value, so user input cannot forge log lines.
// Never pass secrets (passwords, tokens) as fields.
void set_service_name(std::string_view name);
void info(std::string_view message, nlohmann::json fields = nlohmann::json::object());
void warn(std::string_view message, nlohmann::json fields = nlohmann::json::object());
void error(std::string_view message, nlohmann::json fields = nlohmann::json::object());

}  // namespace calndro::log
