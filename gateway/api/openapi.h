#pragma once

#include <string_view>

namespace calndro::gateway {

// gateway/api/openapi.json, compiled in at build time (see CMakeLists.txt).
std::string_view openapi_document();

}  // namespace calndro::gateway
