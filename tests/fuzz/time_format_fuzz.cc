// parse_instant and parse_duration on arbitrary text. Whatever they accept
// is in range, and formats to a text that parses back to the same value
// (and formats to itself).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/text/time_format.h"
#include "fuzz_check.h"

using namespace calndro;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto duration = parse_duration(text);
  FUZZ_CHECK(duration.ok() || !duration.status().message().empty());
  if (duration.ok()) {
    FUZZ_CHECK(*duration > Micros::zero());
    FUZZ_CHECK(*duration <= kMaxSlotDuration);
    const std::string formatted = format_duration(*duration);
    const auto again = parse_duration(formatted);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(*again == *duration);
    FUZZ_CHECK(format_duration(*again) == formatted);
  }

  const auto instant = parse_instant(text);
  FUZZ_CHECK(instant.ok() || !instant.status().message().empty());
  if (instant.ok()) {
    const std::chrono::year_month_day date{std::chrono::floor<std::chrono::days>(*instant)};
    FUZZ_CHECK(date.year() >= std::chrono::year(1) && date.year() <= std::chrono::year(9999));
    const std::string formatted = format_instant(*instant);
    const auto again = parse_instant(formatted);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(*again == *instant);
    FUZZ_CHECK(format_instant(*again) == formatted);
    const std::string described = describe_slot(*instant, duration.value_or(std::chrono::minutes(1)));
    FUZZ_CHECK(described.find(formatted) != std::string::npos);
  }
  return 0;
}
