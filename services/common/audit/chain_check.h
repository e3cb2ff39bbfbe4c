#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/audit/log_chain.h"

namespace calndro::audit {

// A sealed entry as stored: what its hash covers (with its seq), and the
// links it carries.
struct StoredEntry {
  ChainedEntry content;
  std::string prev;
  std::string hash;
};

// The first break in one event's chain, as "seq N: <what>" (the lowest seq
// that is missing, out of place or changed, or that the signed head does not
// cover or match), or nullopt when the chain and its head check out.
// `sealed`: the event's entries that carry a seq, in any order; `head`: its
// stored head (nullopt when none is stored); `public_key_base64`: the key
// the head must be signed with.
std::optional<std::string> first_break(std::vector<StoredEntry> sealed, const std::optional<LogHead>& head,
                                       std::string_view public_key_base64);

}  // namespace calndro::audit
