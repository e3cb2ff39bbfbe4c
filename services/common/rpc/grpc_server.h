#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "common/base/signals.h"

namespace calndro {

class Metrics;

// Calls a server serves on gRPC's async API (a completion queue of its own,
// drained by the owner's thread), beside its synchronous services.
class AsyncCalls {
 public:
  virtual ~AsyncCalls() = default;
  // The server serves: request calls on `queue` and run its completions.
  virtual void start(grpc::ServerCompletionQueue& queue) = 0;
  // The server has stopped (every call over): shut `queue` down and drain it.
  virtual void stop() = 0;
};

struct GrpcServerOptions {
  std::string address;  // "127.0.0.1:50051"; port 0 picks a free one
  std::vector<grpc::Service*> services;
  // Parts of those services on the async API; each gets a queue.
  std::vector<AsyncCalls*> async_calls;
  std::vector<std::string> service_names;  // full names, e.g. "calndro.events.v1.EventService", for health
  std::chrono::seconds drain_timeout{10};
  // Called once health turned NOT_SERVING, while the server refuses new
  // calls and lets those in flight finish (e.g. to stop a background worker).
  std::function<void()> on_shutdown;
  // Every call is counted and timed here (by method and status code).
  Metrics* metrics = nullptr;
  // Polled every 2 s while serving: health reports NOT_SERVING while it
  // returns false (e.g. the database is unreachable), so load balancers and
  // the gateway's /readyz route around the replica.
  std::function<bool()> readiness_check;
};

// Serves with server reflection and grpc.health.v1 (SERVING for "" and each
// service name once started), until SIGINT or SIGTERM: then health turns
// NOT_SERVING, the server stops accepting calls, lets calls in flight finish
// (up to drain_timeout; then they are cancelled), closes idle connections,
// and returns 0. Returns 1 when it cannot listen.
int run_grpc_server(GrpcServerOptions options);

// The binaries' `--health-check` mode (for container health checks; Debian
// ships no grpc_health_probe): asks grpc.health.v1.Health/Check on the
// service's own listen address. Returns 0 when SERVING, 1 otherwise.
int probe_grpc_health(const std::string& listen_address);

}  // namespace calndro
