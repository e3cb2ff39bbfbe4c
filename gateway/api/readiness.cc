#include "gateway/api/readiness.h"

#include "grpc/health/v1/health.grpc.pb.h"

namespace calndro::gateway {

ReadinessProbe::ReadinessProbe(std::vector<Dependency> dependencies, std::chrono::milliseconds timeout)
    : dependencies_(std::move(dependencies)), timeout_(timeout) {}

Readiness ReadinessProbe::check() const {
  Readiness result;
  result.ready = true;
  result.body = nlohmann::json::object();
  for (const auto& dependency : dependencies_) {
    auto stub = grpc::health::v1::Health::NewStub(dependency.channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + timeout_);
    grpc::health::v1::HealthCheckRequest request;
    grpc::health::v1::HealthCheckResponse response;
    const grpc::Status status = stub->Check(&context, request, &response);
    std::string state = "UNREACHABLE";
    if (status.ok()) {
      state = grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status());
    }
    result.ready = result.ready && state == "SERVING";
    result.body[dependency.name] = state;
  }
  result.body["status"] = result.ready ? "ready" : "not ready";
  return result;
}

}  // namespace calndro::gateway
