// normalize_email on arbitrary text: a canonical address is short, has one
// '@' split into valid parts, no upper case, and is its own canonical form.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/text/email.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto canonical = calndro::normalize_email(text);
  if (!canonical.ok()) {
    FUZZ_CHECK(!canonical.status().message().empty());
    return 0;
  }
  FUZZ_CHECK(canonical->size() == text.size());
  FUZZ_CHECK(canonical->size() <= calndro::kMaxEmailLength);
  FUZZ_CHECK(canonical->find('@') != std::string::npos);
  for (char c : *canonical) {
    FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));
    FUZZ_CHECK(static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f);
  }
  const auto again = calndro::normalize_email(*canonical);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(*again == *canonical);
  return 0;
}
