#include "common/config.h"

#include <cstdlib>
#include <stdexcept>

namespace calndro::config {

std::string string_or(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    return fallback;
  }
  return value;
}

int int_or(const char* name, int fallback, int min, int max) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    return fallback;
  }
  std::size_t used = 0;
  long parsed = 0;
  try {
    parsed = std::stol(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || value[used] != '\0' || parsed < min || parsed > max) {
    throw std::runtime_error(std::string(name) + " must be a whole number from " + std::to_string(min) +
                             " to " + std::to_string(max) + ", got '" + value + "'");
  }
  return static_cast<int>(parsed);
}

}  // namespace calndro::config
