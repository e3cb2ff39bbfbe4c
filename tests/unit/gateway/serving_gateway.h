// The gateway's unit tests serve over real sockets: a fake event service on
// a gRPC port the kernel picked, and the gateway in front of it on an HTTP
// port the kernel picked, serving from a thread of its own.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "gateway/api/routes.h"
#include "gateway/server/http_server.h"

namespace calndro::gateway {

// Starts `service` on 127.0.0.1 and a port the kernel picks (written to
// `port`); nullptr when it could not start.
inline std::unique_ptr<grpc::Server> serve_on_a_free_port(grpc::Service& service, int& port,
                                                          int max_metadata_size = 0) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  if (max_metadata_size > 0) {
    builder.AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE, max_metadata_size);
  }
  return builder.BuildAndStart();
}

class ServingGateway {
 public:
  ServingGateway(EventClient& client, GatewayOptions options, const HttpServerOptions& server_options)
      : router_(client, std::move(options)), http_(router_, server_options) {
    port_ = http_.bind("127.0.0.1", 0);
    if (port_ <= 0) {
      return;
    }
    listener_ = std::thread([this] { http_.listen_after_bind(); });
    for (int i = 0; i < 200 && !http_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  ~ServingGateway() {
    http_.stop();
    if (listener_.joinable()) {
      listener_.join();
    }
  }
  ServingGateway(const ServingGateway&) = delete;
  ServingGateway& operator=(const ServingGateway&) = delete;

  bool serving() const { return port_ > 0 && http_.is_running(); }
  int port() const { return port_; }
  HttpServer& http() { return http_; }

 private:
  Router router_;
  HttpServer http_;
  int port_ = 0;
  std::thread listener_;
};

}  // namespace calndro::gateway
