#pragma once

// An in-memory StreamCensusRepository for the unit tests: rows by (replica,
// caller); the replicas named in `stale` count as not refreshed. Not
// rolled back with a refused call.

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "events/stores.h"

namespace calndro::events {

class FakeStreamCensus final : public StreamCensusRepository {
 public:
  std::map<std::pair<std::string, std::string>, std::size_t> rows;  // (replica, caller key) -> open
  std::set<std::string> stale;
  std::vector<std::string> locked;  // lock_caller()'s keys, in order

  void lock_caller(const std::string& caller_key) override { locked.push_back(caller_key); }
  std::int64_t open_elsewhere(const std::string& replica, const std::string& caller_key,
                              std::chrono::seconds) override {
    std::int64_t open = 0;
    for (const auto& [key, count] : rows) {
      if (key.first != replica && key.second == caller_key && !stale.contains(key.first)) {
        open += static_cast<std::int64_t>(count);
      }
    }
    return open;
  }
  void record(const std::string& replica, const std::map<std::string, std::size_t>& open,
              Scope scope) override {
    if (scope == Scope::kWholeReplica) {
      std::erase_if(rows, [&](const auto& row) { return row.first.first == replica; });
    }
    for (const auto& [caller_key, count] : open) {
      rows[{replica, caller_key}] = count;
    }
  }
  void forget_stale(std::chrono::seconds) override {
    std::erase_if(rows, [&](const auto& row) { return stale.contains(row.first.first); });
  }
};

}  // namespace calndro::events
