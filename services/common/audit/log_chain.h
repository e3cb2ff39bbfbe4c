#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/text/time_format.h"
#include "common/text/time_slot.h"

// The hash chain of an event's audit log (SPEC §10), to the byte: what
// anyone recomputes from `GET /ID/log/` (docs/AUDIT-LOG.md).
namespace calndro::audit {

// `prev` of an event's first entry.
inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// What of an entry its hash covers, with each value as GET /ID/log/ shows it.
struct ChainedEntry {
  std::int64_t event_id = 0;
  std::int64_t seq = 0;
  Instant when;
  std::string occurrence;  // "UPDATE", "NOTIFY", ...
  std::string effector;
  std::vector<Slot> slots;
  nlohmann::json data = nlohmann::json::object();
};

// RFC 8785 (JCS) canonical JSON of {"event", "seq", "when", "occurrence",
// "effector", "slots", "data"}. Numbers in `data` that are whole are written
// as integers (the gateway shows them so); a fractional one is refused
// (std::invalid_argument): SPEC §10 has no floats in an entry.
std::string canonical_entry(const ChainedEntry& entry);

// Lowercase hex SHA-256(bytes of prev_hex ‖ canonical). `prev_hex` must be
// 64 hex digits (std::invalid_argument otherwise).
std::string chain_hash(std::string_view prev_hex, std::string_view canonical);

// The hash of `entry` chained after `prev_hex`.
inline std::string entry_hash(std::string_view prev_hex, const ChainedEntry& entry) {
  return chain_hash(prev_hex, canonical_entry(entry));
}

// The event's head: its last sealed entry, and when it was signed.
struct LogHead {
  std::int64_t event_id = 0;
  std::int64_t seq = 0;
  std::string hash;
  Instant signed_at;
  std::string signature;  // standard base64 of the 64-byte Ed25519 signature
};

// "calndro-log-head v1\nevent=ID\nseq=N\nhash=HEX\nsigned_at=WHEN": the text
// the head's signature covers.
std::string head_text(const LogHead& head);

}  // namespace calndro::audit
