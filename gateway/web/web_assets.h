#pragma once

#include <string_view>

// gateway/web/static/, compiled in at build time (see CMakeLists.txt).
namespace calndro::gateway::web_assets {

std::string_view index_html();  // refers to the versioned app.css and app.js
std::string_view app_css();
std::string_view app_js();
std::string_view app_css_version();  // 12 hex digits of the file's SHA-256
std::string_view app_js_version();

}  // namespace calndro::gateway::web_assets
