#pragma once

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace calndro::admin {

// What `calndro-admin log verify [--event ID]` finds: every event's chain
// (SPEC §10) recomputed from the rows of events.log_entries, and its stored
// head checked against it and against `public_key_base64`, in one snapshot.
struct LogVerification {
  std::int64_t events = 0;
  std::int64_t entries = 0;
  // One line per broken chain: "event ID: seq N: <what>".
  std::vector<std::string> broken;
};

LogVerification verify_logs(pqxx::connection& connection, const std::string& public_key_base64,
                            std::optional<std::int64_t> only_event);

}  // namespace calndro::admin
