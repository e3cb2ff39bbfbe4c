#include "gateway/server/gateway_config.h"

#include "common/base/config.h"
#include "common/grpc/grpc_channel.h"
#include "common/text/allowed_hosts.h"

namespace calndro::gateway {
namespace {

// Where the services are, and the internal credential the event service expects.
void read_peers(const settings::Values& settings, GatewayConfig& config) {
  config.events_address = settings.text("CALNDRO_EVENTS_ADDR");
  config.notify_address = settings.unless_off("CALNDRO_NOTIFY_ADDR").value_or("");
  const config::InternalToken internal = config::internal_token_for_target(settings, config.events_address);
  config.internal_token = internal.value;
  config.default_internal_token = internal.is_default;
  config.rpc_timeout = settings.milliseconds("CALNDRO_RPC_TIMEOUT_MS");
}

// Who may come in, and how many at once.
void read_front_door(const settings::Values& settings, GatewayConfig& config) {
  config.http_threads = settings.integer("CALNDRO_HTTP_THREADS");
  config.head_timeout = settings.milliseconds("CALNDRO_HTTP_HEAD_TIMEOUT_MS");
  config.max_connections_per_address = settings.integer("CALNDRO_HTTP_MAX_CONNECTIONS_PER_ADDRESS");
  config.max_lingering_connections_per_address =
      settings.integer("CALNDRO_HTTP_MAX_LINGERING_CONNECTIONS_PER_ADDRESS");
  config.public_base_url = settings.text("CALNDRO_PUBLIC_BASE_URL");
  config.allowed_hosts = settings.text("CALNDRO_ALLOWED_HOSTS");
  (void)settings.parsed("CALNDRO_ALLOWED_HOSTS", [&config](const std::string& list) {
    return AllowedHosts::parse(list, config.public_base_url);
  });
  config.trusted_proxies = settings.parsed("CALNDRO_TRUSTED_PROXIES", TrustedProxies::parse);
  config.sse_slow_reader = settings.milliseconds("CALNDRO_SSE_SLOW_READER_MS");
}

}  // namespace

GatewayConfig load_config(const settings::Values& settings) {
  GatewayConfig config;
  // The table has checked the form: host:port or [v6]:port.
  split_host_port(settings.text("CALNDRO_HTTP_LISTEN"), config.listen_host, config.listen_port);
  config.metrics_listen = settings.unless_off("CALNDRO_GATEWAY_METRICS_LISTEN").value_or("");
  read_peers(settings, config);
  read_front_door(settings, config);
  config.tls = read_grpc_tls(settings);
  settings.expect_all_read();
  return config;
}

}  // namespace calndro::gateway
