#pragma once

// Text as a mail or calendar reader takes it apart, for the tests and the
// fuzz target that check what calndro renders. Header-only and free of test
// frameworks: the unit tests (gtest) and the fuzz targets (libFuzzer) both
// include it.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace calndro::testing {

// The lines of `text` split at CRLF, without their CRLFs; a last line
// without one is kept as it is.
inline std::vector<std::string> crlf_lines(std::string_view text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find("\r\n", start);
    if (end == std::string_view::npos) {
      lines.emplace_back(text.substr(start));
      break;
    }
    lines.emplace_back(text.substr(start, end - start));
    start = end + 2;
  }
  return lines;
}

// RFC 2045 §6.7 undone, as a mail reader does: soft breaks joined, =XX
// turned back into octets, hard breaks (CRLF) as "\n". nullopt when an "="
// is not followed by two upper-case hexadecimal digits (the RFC's only
// spelling), e.g. an escape cut at the end.
inline std::optional<std::string> decode_quoted_printable(std::string_view wire) {
  static constexpr std::string_view kHex = "0123456789ABCDEF";
  std::string out;
  for (std::size_t i = 0; i < wire.size();) {
    if (wire.substr(i).starts_with("=\r\n")) {
      i += 3;
    } else if (wire[i] == '=') {
      const std::size_t high = i + 1 < wire.size() ? kHex.find(wire[i + 1]) : std::string_view::npos;
      const std::size_t low = i + 2 < wire.size() ? kHex.find(wire[i + 2]) : std::string_view::npos;
      if (high == std::string_view::npos || low == std::string_view::npos) {
        return std::nullopt;
      }
      out += static_cast<char>(high * 16 + low);
      i += 3;
    } else if (wire.substr(i).starts_with("\r\n")) {
      out += '\n';
      i += 2;
    } else {
      out += wire[i++];
    }
  }
  return out;
}

}  // namespace calndro::testing
