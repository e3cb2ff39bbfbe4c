#pragma once

#include <chrono>
#include <string>

#include "common/base/settings.h"
#include "common/grpc/grpc_channel.h"
#include "gateway/api/client_address.h"

// The gateway's configuration, from its settings (common/base/settings_table.cc
// says what each one allows; docs/OPERATIONS.md lists them).
namespace calndro::gateway {

struct GatewayConfig {
  std::string listen_host = "0.0.0.0";  // CALNDRO_HTTP_LISTEN
  int listen_port = 9000;
  std::string events_address;  // CALNDRO_EVENTS_ADDR, as a gRPC target (common/grpc/grpc_channel.h)
  // CALNDRO_NOTIFY_ADDR: only asked for health, by /readyz; empty when "off"
  // (where the network lets only the event service reach it).
  std::string notify_address;
  // CALNDRO_INTERNAL_TOKEN (or _FILE): sent with every call, so the event
  // service believes the client address the gateway forwards
  // (config::internal_token_for_target).
  std::string internal_token;
  bool default_internal_token = false;
  // CALNDRO_GATEWAY_METRICS_LISTEN: Prometheus text on GET /metrics there,
  // never on the public port; empty when "off".
  std::string metrics_listen = "127.0.0.1:9103";
  std::chrono::milliseconds rpc_timeout{5000};  // CALNDRO_RPC_TIMEOUT_MS
  std::string public_base_url;                  // CALNDRO_PUBLIC_BASE_URL
  // CALNDRO_ALLOWED_HOSTS as written (checked here; the Router parses it
  // again with common/text/allowed_hosts.h).
  std::string allowed_hosts;
  TrustedProxies trusted_proxies;  // CALNDRO_TRUSTED_PROXIES (gateway/api/client_address.h)
  // CALNDRO_HTTP_HEAD_TIMEOUT_MS: the whole request head must arrive in this time.
  std::chrono::milliseconds head_timeout{10000};
  // CALNDRO_HTTP_MAX_CONNECTIONS_PER_ADDRESS: connections served at once for
  // one client address, whatever they do (trusted proxies are not counted).
  int max_connections_per_address = 256;
  // CALNDRO_HTTP_MAX_LINGERING_CONNECTIONS_PER_ADDRESS: of those, how many
  // may wait for a request, or take over a head, for 250 ms or more
  // (gateway/server/connection_registry.h).
  int max_lingering_connections_per_address = 16;
  // CALNDRO_HTTP_THREADS: a connection holds a worker while it is served;
  // an idle one gives it up when others wait (gateway/server/http_server.h).
  int http_threads = 64;
  // CALNDRO_SSE_SLOW_READER_MS: a stream's client that leaves written bytes
  // unread this long is disconnected (gateway/server/sse_hub.h).
  std::chrono::milliseconds sse_slow_reader{30000};
  GrpcTls tls;  // CALNDRO_GRPC_TLS_*, for common/grpc/grpc_channel.h's use_grpc_tls()
};

using settings::split_host_port;

// The gateway's settings as its parts use them. Throws settings::Error (or
// std::runtime_error for the internal credential) naming the variable when
// a value is refused: bad configuration fails fast.
GatewayConfig load_config(const settings::Values& settings);

}  // namespace calndro::gateway
