#pragma once

#include <string>
#include <string_view>

// The gateway's configuration from the environment (docs/ARCHITECTURE.md).
namespace calndro::gateway {

struct GatewayConfig {
  std::string listen_host = "0.0.0.0";  // CALNDRO_HTTP_LISTEN
  int listen_port = 9000;
  std::string events_address;           // CALNDRO_EVENTS_ADDR, as a gRPC target (common/grpc_channel.h)
  std::string notify_address;           // CALNDRO_NOTIFY_ADDR: only asked for health, by /readyz
  bool metrics_enabled = true;          // CALNDRO_GATEWAY_METRICS=off hides /metrics
  int rpc_timeout_ms = 5000;            // CALNDRO_RPC_TIMEOUT_MS
  std::string public_base_url;          // CALNDRO_PUBLIC_BASE_URL
  // CALNDRO_HTTP_THREADS: each open (keep-alive) connection holds a worker
  // while it is served, so this bounds concurrent connections being served.
  int http_threads = 64;
};

// "host:port" or "[v6]:port", port 0..65535. False when malformed.
bool split_host_port(std::string_view text, std::string& host, int& port);

// Reads the environment; throws std::runtime_error naming the variable on
// malformed values (bad configuration fails fast).
GatewayConfig load_config();

}  // namespace calndro::gateway
