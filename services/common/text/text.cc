#include "common/text/text.h"

#include <algorithm>
#include <cctype>

#include "common/text/limits.h"

namespace calndro {

std::string_view trim_blanks(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

std::vector<std::string_view> split_list(std::string_view list) {
  std::vector<std::string_view> entries;
  while (!list.empty()) {
    const auto comma = list.find(',');
    const std::string_view entry = trim_blanks(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    if (!entry.empty()) {
      entries.push_back(entry);
    }
  }
  return entries;
}

std::string to_lower_ascii(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::size_t utf8_length(std::string_view text) {
  std::size_t count = 0;
  for (const unsigned char c : text) {
    count += (c & 0xC0) != 0x80 ? 1 : 0;
  }
  return count;
}

bool is_idempotency_key(std::string_view key) {
  if (key.empty() || key.size() > limits::kMaxIdempotencyKeyLength) {
    return false;
  }
  for (const char c : key) {
    if (c < 0x21 || c > 0x7E) {
      return false;
    }
  }
  return true;
}

}  // namespace calndro
