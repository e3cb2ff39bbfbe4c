#pragma once

#include <string>
#include <string_view>
#include <vector>

// Small text rules shared by the configuration parsers and the validators.
namespace calndro {

// Without leading and trailing spaces and tabs.
std::string_view trim_blanks(std::string_view text);

// The entries of a comma-separated list ("a, b,,c"), each trimmed; empty
// entries are dropped.
std::vector<std::string_view> split_list(std::string_view list);

// ASCII letters in lower case; other bytes as they are.
std::string to_lower_ascii(std::string_view text);

// Characters (code points) in UTF-8 text: the bytes that do not continue a
// sequence. Limits on titles count these, as SPEC §7 counts characters.
std::size_t utf8_length(std::string_view text);

// SPEC §3's idempotency key: 1 to limits::kMaxIdempotencyKeyLength visible
// ASCII characters (0x21 to 0x7E: no spaces, no control characters).
bool is_idempotency_key(std::string_view key);

}  // namespace calndro
