#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

// GET /readyz: the gateway is ready when every service behind it answers
// grpc.health.v1 SERVING. The event service reports NOT_SERVING while its
// database is unreachable, so this also says whether the database is.
namespace calndro::gateway {

// clang-tidy 14 follows the implicit move constructor into nlohmann::json's,
// which is noexcept (an exception there ends the process; none reaches here).
// NOLINTNEXTLINE(bugprone-exception-escape)
struct Readiness {
  bool ready = false;
  nlohmann::json body;  // {"status": "ready"|"not ready", "events": "SERVING", "notify": ...}
};

class ReadinessProbe {
 public:
  struct Dependency {
    std::string name;  // "events", "notify"
    std::shared_ptr<grpc::Channel> channel;
  };
  ReadinessProbe(std::vector<Dependency> dependencies, std::chrono::milliseconds timeout);

  Readiness check() const;

 private:
  std::vector<Dependency> dependencies_;
  std::chrono::milliseconds timeout_;
};

}  // namespace calndro::gateway
