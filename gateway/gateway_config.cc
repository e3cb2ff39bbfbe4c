#include "gateway/gateway_config.h"

#include <charconv>
#include <stdexcept>

#include "common/allowed_hosts.h"
#include "common/config.h"
#include "common/grpc_channel.h"
#include "gateway/client_address.h"

namespace calndro::gateway {

bool split_host_port(std::string_view text, std::string& host, int& port) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
    return false;
  }
  std::string_view host_part = text.substr(0, colon);
  std::string_view port_part = text.substr(colon + 1);
  if (host_part.front() == '[') {
    if (host_part.size() < 3 || host_part.back() != ']') {
      return false;
    }
    host_part = host_part.substr(1, host_part.size() - 2);
  } else if (host_part.find(':') != std::string_view::npos) {
    return false;
  }
  int value = -1;
  auto [end, error] = std::from_chars(port_part.data(), port_part.data() + port_part.size(), value);
  if (error != std::errc() || end != port_part.data() + port_part.size() || value < 0 || value > 65535) {
    return false;
  }
  host = std::string(host_part);
  port = value;
  return true;
}

namespace {

// CALNDRO_EVENTS_ADDR, CALNDRO_NOTIFY_ADDR ("off": /readyz does not ask
// notify) and the internal credential the event service expects.
void read_peers(GatewayConfig& config, int events_port) {
  const int notify_port = config::int_or("CALNDRO_NOTIFY_PORT", 50052, 1, 65535);
  std::string error;
  const auto events_target = grpc_target(
      config::string_or("CALNDRO_EVENTS_ADDR", "127.0.0.1:" + std::to_string(events_port)), error);
  if (!events_target) {
    throw std::runtime_error("CALNDRO_EVENTS_ADDR: " + error);
  }
  config.events_address = *events_target;
  const std::string notify_address =
      config::string_or("CALNDRO_NOTIFY_ADDR", "127.0.0.1:" + std::to_string(notify_port));
  if (notify_address != "off") {
    const auto notify_target = grpc_target(notify_address, error);
    if (!notify_target) {
      throw std::runtime_error("CALNDRO_NOTIFY_ADDR: " + error);
    }
    config.notify_address = *notify_target;
  }
  const config::InternalToken internal = config::internal_token_for_target(config.events_address);
  config.internal_token = internal.value;
  config.default_internal_token = internal.is_default;
}

}  // namespace

GatewayConfig load_config() {
  GatewayConfig config;
  const int http_port = config::int_or("CALNDRO_HTTP_PORT", 9000, 0, 65535);
  const int events_port = config::int_or("CALNDRO_EVENTS_PORT", 50051, 1, 65535);

  const std::string listen = config::string_or("CALNDRO_HTTP_LISTEN", "0.0.0.0:" + std::to_string(http_port));
  if (!split_host_port(listen, config.listen_host, config.listen_port)) {
    throw std::runtime_error("CALNDRO_HTTP_LISTEN must be host:port, got '" + listen + "'");
  }
  read_peers(config, events_port);
  config.metrics_listen = config::string_or("CALNDRO_GATEWAY_METRICS_LISTEN", "127.0.0.1:9103");
  if (config.metrics_listen == "off") {
    config.metrics_listen.clear();
  } else {
    std::string metrics_host;
    int metrics_port = 0;
    if (!split_host_port(config.metrics_listen, metrics_host, metrics_port)) {
      throw std::runtime_error("CALNDRO_GATEWAY_METRICS_LISTEN must be host:port or off, got '" +
                               config.metrics_listen + "'");
    }
  }
  config.rpc_timeout_ms = config::int_or("CALNDRO_RPC_TIMEOUT_MS", 5000, 1, 600000);
  config.http_threads = config::int_or("CALNDRO_HTTP_THREADS", 64, 1, 4096);
  config.head_timeout_ms = config::int_or("CALNDRO_HTTP_HEAD_TIMEOUT_MS", 10000, 100, 600000);
  config.max_connections_per_address =
      config::int_or("CALNDRO_HTTP_MAX_CONNECTIONS_PER_ADDRESS", 256, 1, 100000);
  config.max_lingering_connections_per_address =
      config::int_or("CALNDRO_HTTP_MAX_LINGERING_CONNECTIONS_PER_ADDRESS", 16, 1, 100000);
  config.public_base_url = config::string_or("CALNDRO_PUBLIC_BASE_URL", "");
  const auto& base = config.public_base_url;
  if (!base.empty() && base.rfind("http://", 0) != 0 && base.rfind("https://", 0) != 0) {
    throw std::runtime_error("CALNDRO_PUBLIC_BASE_URL must start with http:// or https://, got '" + base +
                             "'");
  }
  config.allowed_hosts = config::string_or("CALNDRO_ALLOWED_HOSTS", "");
  config.trusted_proxies = config::string_or("CALNDRO_TRUSTED_PROXIES", "");
  try {
    AllowedHosts::parse(config.allowed_hosts, config.public_base_url);
    TrustedProxies::parse(config.trusted_proxies);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(e.what());
  }
  return config;
}

}  // namespace calndro::gateway
