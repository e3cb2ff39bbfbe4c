#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace calndro {

inline constexpr std::size_t kMaxEmailLength = 254;

// Validates an address and returns its canonical form (lower case), the
// form calndro stores and compares: "You@Here.net" and "you@here.net" are
// one party. A refused address is INVALID_ARGUMENT with a sentence for the
// caller.
absl::StatusOr<std::string> normalize_email(std::string_view text);

}  // namespace calndro
