#include "events/stream_census.h"

#include <unistd.h>

#include <array>

#include "common/base/log.h"

namespace calndro::events {
namespace {

// Admitting waits this long for the database at most; a stream's opening
// look has just read it, so it is there unless it just went.
constexpr auto kAdmitTimeout = std::chrono::seconds(5);

CallContext bounded(std::chrono::seconds timeout) {
  CallContext call;
  call.deadline = std::chrono::system_clock::now() + timeout;
  return call;
}

}  // namespace

DatabaseStreamCensus::DatabaseStreamCensus(Database& database, std::string replica,
                                           StreamCensusOptions options)
    : database_(database), replica_(std::move(replica)), options_(options) {}

bool DatabaseStreamCensus::admit(const std::string& caller_key, std::size_t open_here, std::size_t limit) {
  bool admitted = false;
  const absl::Status status =
      database_.run(bounded(kAdmitTimeout), Atomicity::kTransaction, [&](Repositories& stores) {
        stores.stream_census.lock_caller(caller_key);
        const auto elsewhere = stores.stream_census.open_elsewhere(replica_, caller_key, options_.fresh);
        admitted = open_here + static_cast<std::size_t>(std::max<std::int64_t>(elsewhere, 0)) < limit;
        if (admitted) {
          stores.stream_census.record(replica_, {{caller_key, open_here + 1}},
                                      StreamCensusRepository::Scope::kTheseCallers);
        }
        return absl::OkStatus();
      });
  if (!status.ok()) {
    // The limit is a guard, not a promise anyone relies on: without the
    // census this replica's own count decides (the caller already passed it).
    log::warn("stream census unavailable; admitted on this replica's count",
              {{"error", std::string(status.message())}});
    return true;
  }
  return admitted;
}

void DatabaseStreamCensus::publish(const std::map<std::string, std::size_t>& open) {
  const absl::Status status =
      database_.run(bounded(kAdmitTimeout), Atomicity::kTransaction, [&](Repositories& stores) {
        stores.stream_census.record(replica_, open, StreamCensusRepository::Scope::kWholeReplica);
        stores.stream_census.forget_stale(options_.forget);
        return absl::OkStatus();
      });
  if (!status.ok()) {
    log::warn("stream census not refreshed", {{"error", std::string(status.message())}});
  }
}

std::string replica_name(RandomSource& random) {
  std::array<char, 64> host{};
  if (::gethostname(host.data(), host.size() - 1) != 0) {
    host[0] = '\0';
  }
  return std::string(host.data()) + ":" + std::to_string(::getpid()) + ":" + random_hex(random, 6);
}

}  // namespace calndro::events
