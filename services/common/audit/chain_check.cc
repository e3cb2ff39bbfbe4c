#include "common/audit/chain_check.h"

#include <algorithm>
#include <stdexcept>

#include "common/audit/log_signing_key.h"

namespace calndro::audit {
namespace {

std::string at_seq(std::int64_t seq, std::string_view what) {
  return "seq " + std::to_string(seq) + ": " + std::string(what);
}

// The chain alone: seq 1..n, each prev the hash before, each hash recomputed.
std::optional<std::string> chain_break(const std::vector<StoredEntry>& sealed) {
  std::int64_t expected = 1;
  std::string prev(kGenesisHash);
  for (const StoredEntry& entry : sealed) {
    const std::int64_t seq = entry.content.seq;
    if (seq > expected) {
      return at_seq(expected, "missing");
    }
    if (seq < expected || entry.prev != prev) {
      return at_seq(seq, "out of place");
    }
    std::string recomputed;
    try {
      recomputed = entry_hash(prev, entry.content);
    } catch (const std::exception& error) {
      return at_seq(seq, std::string("changed (") + error.what() + ")");
    }
    if (recomputed != entry.hash) {
      return at_seq(seq, "changed");
    }
    prev = entry.hash;
    ++expected;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> first_break(std::vector<StoredEntry> sealed, const std::optional<LogHead>& head,
                                       std::string_view public_key_base64) {
  std::sort(sealed.begin(), sealed.end(),
            [](const StoredEntry& a, const StoredEntry& b) { return a.content.seq < b.content.seq; });
  if (auto broken = chain_break(sealed)) {
    return broken;
  }
  const std::int64_t last = sealed.empty() ? 0 : sealed.back().content.seq;
  if (!head) {
    return last == 0 ? std::nullopt : std::optional(at_seq(1, "no signed head covers it"));
  }
  if (head->seq > last) {
    return at_seq(last + 1, "missing");
  }
  if (head->seq < 1 || sealed[static_cast<std::size_t>(head->seq - 1)].hash != head->hash) {
    return at_seq(head->seq, "does not match the signed head");
  }
  if (!verify_signature(public_key_base64, head_text(*head), head->signature)) {
    return at_seq(head->seq, "the head's signature does not verify with the key");
  }
  if (head->seq < last) {
    return at_seq(head->seq + 1, "not under the signed head");
  }
  return std::nullopt;
}

}  // namespace calndro::audit
