#include "common/grpc_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>

#include "common/log.h"
#include "grpc/health/v1/health.pb.h"

namespace calndro {
namespace {

sigset_t termination_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

int wait_for_termination_signal() {
  sigset_t set = termination_signals();
  int signal_number = 0;
  sigwait(&set, &signal_number);
  return signal_number;
}

// Referencing the health descriptor links health.proto's descriptor into
// the binary, so reflection can describe grpc.health.v1.Health.
const google::protobuf::FileDescriptor* health_descriptor() {
  return grpc::health::v1::HealthCheckRequest::descriptor()->file();
}

}  // namespace

void block_termination_signals() {
  sigset_t set = termination_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int run_grpc_server(GrpcServerOptions options) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  (void)health_descriptor();

  grpc::ServerBuilder builder;
  int selected_port = 0;
  builder.AddListeningPort(options.address, grpc::InsecureServerCredentials(), &selected_port);
  for (grpc::Service* service : options.services) {
    builder.RegisterService(service);
  }
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || selected_port == 0) {
    log::error("cannot listen", {{"address", options.address}});
    return 1;
  }
  grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
  std::vector<std::string> names{""};
  for (const auto& name : options.service_names) {
    names.push_back(name);
  }
  for (const auto& name : names) {
    health->SetServingStatus(name, true);
  }
  log::info("serving", {{"address", options.address}, {"port", selected_port}});

  const int signal_number = wait_for_termination_signal();
  log::info("shutting down", {{"signal", signal_number}});
  health->SetServingStatus(false);
  if (options.on_shutdown) {
    options.on_shutdown();
  }
  server->Shutdown(std::chrono::system_clock::now() + options.drain_timeout);
  server->Wait();
  log::info("stopped");
  return 0;
}

}  // namespace calndro
