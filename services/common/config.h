#pragma once

#include <string>

namespace calndro::config {

// Configuration comes from the environment, with working local defaults.
// A value that is set but malformed stops the process at start-up with a
// message naming the variable: bad configuration fails fast.
std::string string_or(const char* name, const std::string& fallback);
int int_or(const char* name, int fallback, int min, int max);

}  // namespace calndro::config
