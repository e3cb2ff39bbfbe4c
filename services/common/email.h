#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace calndro {

inline constexpr std::size_t kMaxEmailLength = 254;

// Validates an address and returns its canonical form (lower case), the
// form calndro stores and compares: "You@Here.net" and "you@here.net" are
// one party. On failure returns nullopt with a sentence in `error`.
std::optional<std::string> normalize_email(std::string_view text, std::string& error);

}  // namespace calndro
