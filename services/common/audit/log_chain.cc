#include "common/audit/log_chain.h"

#include <sodium.h>

#include <cmath>
#include <stdexcept>

namespace calndro::audit {
namespace {

// nlohmann's object is a std::map ordered by the bytes of its keys: for keys
// in UTF-8 that is code point order, which equals JCS's UTF-16 order for
// every key outside the supplementary planes, and SPEC §10's keys are ASCII.
// Whole numbers become integers, as the gateway writes them.
nlohmann::json with_integers(const nlohmann::json& value) {
  if (value.is_number_float()) {
    const double number = value.get<double>();
    if (!std::isfinite(number) || std::trunc(number) != number || std::fabs(number) > 9007199254740992.0) {
      throw std::invalid_argument("an audit log entry holds a fractional number");
    }
    return static_cast<std::int64_t>(number);
  }
  if (value.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : value) {
      out.push_back(with_integers(item));
    }
    return out;
  }
  if (value.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [key, item] : value.items()) {
      out[key] = with_integers(item);
    }
    return out;
  }
  return value;
}

int hex_value(char digit) {
  if (digit >= '0' && digit <= '9') {
    return digit - '0';
  }
  if (digit >= 'a' && digit <= 'f') {
    return digit - 'a' + 10;
  }
  if (digit >= 'A' && digit <= 'F') {
    return digit - 'A' + 10;
  }
  return -1;
}

}  // namespace

std::string canonical_entry(const ChainedEntry& entry) {
  nlohmann::json slots = nlohmann::json::array();
  for (const Slot& slot : entry.slots) {
    slots.push_back({{"begin", format_instant(slot.begin)}, {"duration", format_duration(slot.duration)}});
  }
  const nlohmann::json object = {
      {"event", entry.event_id},           {"seq", entry.seq},           {"when", format_instant(entry.when)},
      {"occurrence", entry.occurrence},    {"effector", entry.effector}, {"slots", std::move(slots)},
      {"data", with_integers(entry.data)},
  };
  // No indentation, UTF-8 as is (ensure_ascii off): JCS escapes only '"',
  // '\\' and control characters, and so does nlohmann, in the same spelling.
  return object.dump(-1, ' ', /*ensure_ascii=*/false);
}

std::string chain_hash(std::string_view prev_hex, std::string_view canonical) {
  if (prev_hex.size() != std::size_t{2} * crypto_hash_sha256_BYTES) {
    throw std::invalid_argument("prev is not 64 hex digits");
  }
  unsigned char prev[crypto_hash_sha256_BYTES];
  for (std::size_t i = 0; i < sizeof prev; ++i) {
    const int high = hex_value(prev_hex[2 * i]);
    const int low = hex_value(prev_hex[2 * i + 1]);
    if (high < 0 || low < 0) {
      throw std::invalid_argument("prev is not 64 hex digits");
    }
    prev[i] = static_cast<unsigned char>(high * 16 + low);
  }
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  crypto_hash_sha256_update(&state, prev, sizeof prev);
  crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(canonical.data()),
                            canonical.size());
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&state, digest);
  std::string hex(2 * sizeof digest + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), digest, sizeof digest);
  hex.pop_back();
  return hex;
}

std::string head_text(const LogHead& head) {
  return "calndro-log-head v1\nevent=" + std::to_string(head.event_id) + "\nseq=" + std::to_string(head.seq) +
         "\nhash=" + head.hash + "\nsigned_at=" + format_instant(head.signed_at);
}

}  // namespace calndro::audit
