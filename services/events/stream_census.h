#pragma once

#include <chrono>
#include <map>
#include <string>

#include "common/crypto/crypto.h"
#include "events/event_streams.h"
#include "events/stores.h"

// SPEC §11's limit of open streams per user or email token holds for the
// deployment, not per replica: each replica admits a caller's stream only
// after counting the streams the others hold (events.stream_census,
// migration 0015), and keeps its own counts there.
namespace calndro::events {

struct StreamCensusOptions {
  // A replica's counts stop counting this long after its last refresh (it
  // stopped or lost the database); EventStreams refreshes every 5 s.
  std::chrono::seconds fresh{15};
  // ... and are removed this long after.
  std::chrono::seconds forget{60};
};

class DatabaseStreamCensus final : public StreamCensus {
 public:
  DatabaseStreamCensus(Database& database, std::string replica, StreamCensusOptions options = {});

  bool admit(const std::string& caller_key, std::size_t open_here, std::size_t limit) override;
  void publish(const std::map<std::string, std::size_t>& open) override;

 private:
  Database& database_;
  const std::string replica_;
  const StreamCensusOptions options_;
};

// This process's name among the replicas in the census: host name, process
// id and random bytes (a restarted replica is a new one; its old counts expire).
std::string replica_name(RandomSource& random);

}  // namespace calndro::events
