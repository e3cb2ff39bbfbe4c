// accept_quality and prefers_html on arbitrary Accept values: qualities are
// in [0, 1], and prefers_html is exactly "HTML's quality above zero and above
// JSON's" (no header: JSON).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "gateway/web/web_page.h"

using namespace calndro::gateway;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view accept(reinterpret_cast<const char*>(data), size);
  const double html = accept_quality(accept, "text", "html");
  const double json = accept_quality(accept, "application", "json");
  FUZZ_CHECK(html >= 0 && html <= 1);
  FUZZ_CHECK(json >= 0 && json <= 1);
  const bool blank = accept.find_first_not_of(" \t") == std::string_view::npos;
  if (blank) {
    FUZZ_CHECK(html == 1 && json == 1);
    FUZZ_CHECK(!prefers_html(accept));
  } else {
    FUZZ_CHECK(prefers_html(accept) == (html > 0 && html > json));
  }
  // The same ranges in the other order decide the same way.
  const std::size_t comma = accept.find(',');
  if (comma != std::string_view::npos && accept.find(',', comma + 1) == std::string_view::npos && !blank) {
    std::string swapped(accept.substr(comma + 1));
    swapped += ',';
    swapped += accept.substr(0, comma);
    FUZZ_CHECK(accept_quality(swapped, "text", "html") == html);
    FUZZ_CHECK(accept_quality(swapped, "application", "json") == json);
  }
  return 0;
}
