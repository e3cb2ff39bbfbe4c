#include "gateway/gateway_config.h"

#include <charconv>
#include <stdexcept>

#include "common/config.h"
#include "common/grpc_channel.h"

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

GatewayConfig load_config() {
  GatewayConfig config;
  const int http_port = config::int_or("CALNDRO_HTTP_PORT", 9000, 0, 65535);
  const int events_port = config::int_or("CALNDRO_EVENTS_PORT", 50051, 1, 65535);

  const std::string listen = config::string_or("CALNDRO_HTTP_LISTEN", "0.0.0.0:" + std::to_string(http_port));
  if (!split_host_port(listen, config.listen_host, config.listen_port)) {
    throw std::runtime_error("CALNDRO_HTTP_LISTEN must be host:port, got '" + listen + "'");
  }
  const int notify_port = config::int_or("CALNDRO_NOTIFY_PORT", 50052, 1, 65535);
  std::string error;
  const auto events_target =
      grpc_target(config::string_or("CALNDRO_EVENTS_ADDR", "127.0.0.1:" + std::to_string(events_port)), error);
  if (!events_target) {
    throw std::runtime_error("CALNDRO_EVENTS_ADDR: " + error);
  }
  config.events_address = *events_target;
  const auto notify_target =
      grpc_target(config::string_or("CALNDRO_NOTIFY_ADDR", "127.0.0.1:" + std::to_string(notify_port)), error);
  if (!notify_target) {
    throw std::runtime_error("CALNDRO_NOTIFY_ADDR: " + error);
  }
  config.notify_address = *notify_target;
  config.metrics_enabled = config::string_or("CALNDRO_GATEWAY_METRICS", "on") != "off";
  config.rpc_timeout_ms = config::int_or("CALNDRO_RPC_TIMEOUT_MS", 5000, 1, 600000);
  config.http_threads = config::int_or("CALNDRO_HTTP_THREADS", 64, 1, 4096);
  config.public_base_url = config::string_or("CALNDRO_PUBLIC_BASE_URL", "");
  const auto& base = config.public_base_url;
  if (!base.empty() && base.rfind("http://", 0) != 0 && base.rfind("https://", 0) != 0) {
    throw std::runtime_error("CALNDRO_PUBLIC_BASE_URL must start with http:// or https://, got '" + base + "'");
  }
  return config;
}

}  // namespace calndro::gateway
