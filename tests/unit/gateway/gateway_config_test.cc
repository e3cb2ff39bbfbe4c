#include "gateway/server/gateway_config.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace calndro::gateway {
namespace {

using namespace std::chrono_literals;
using settings::Environment;

GatewayConfig config_of(const Environment& environment) {
  return load_config(settings::Values::load(settings::Process::kGateway, environment));
}

// The message of what loading `environment` throws; "" when it loads.
std::string error_of_load(const Environment& environment) {
  try {
    (void)config_of(environment);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(GatewayConfig, Defaults) {
  const GatewayConfig config = config_of({});
  EXPECT_EQ(config.listen_host, "0.0.0.0");
  EXPECT_EQ(config.listen_port, 9000);
  EXPECT_EQ(config.events_address, "127.0.0.1:50051");
  EXPECT_EQ(config.metrics_listen, "127.0.0.1:9103");
  EXPECT_EQ(config.rpc_timeout, 5000ms);
  EXPECT_EQ(config.http_threads, 64);
  EXPECT_EQ(config.head_timeout, 10000ms);
  // A client pool or an office behind one NAT never reaches the first;
  // idle and slow connections meet the second.
  EXPECT_EQ(config.max_connections_per_address, 256);
  EXPECT_EQ(config.max_lingering_connections_per_address, 16);
  EXPECT_EQ(config.allowed_hosts, "");
  EXPECT_TRUE(config.trusted_proxies.empty());
  EXPECT_EQ(config.public_base_url, "");
  EXPECT_FALSE(config.tls.enabled());
}

TEST(GatewayConfig, TheListenAddressFollowsThePortUnlessGiven) {
  const GatewayConfig by_port = config_of({{"CALNDRO_HTTP_PORT", "9100"}, {"CALNDRO_EVENTS_PORT", "6001"}});
  EXPECT_EQ(by_port.listen_port, 9100);
  EXPECT_EQ(by_port.events_address, "127.0.0.1:6001");
  const GatewayConfig given =
      config_of({{"CALNDRO_HTTP_PORT", "9100"}, {"CALNDRO_HTTP_LISTEN", "[::1]:9200"}});
  EXPECT_EQ(given.listen_host, "::1");
  EXPECT_EQ(given.listen_port, 9200);
}

TEST(GatewayConfig, MetricsListenOffOrHostPort) {
  EXPECT_EQ(config_of({{"CALNDRO_GATEWAY_METRICS_LISTEN", "off"}}).metrics_listen, "");
  EXPECT_NE(
      error_of_load({{"CALNDRO_GATEWAY_METRICS_LISTEN", "9103"}}).find("CALNDRO_GATEWAY_METRICS_LISTEN"),
      std::string::npos);
  // Port 0: the kernel chooses, and the gateway logs which ("metrics served").
  EXPECT_EQ(config_of({{"CALNDRO_GATEWAY_METRICS_LISTEN", "127.0.0.1:0"}}).metrics_listen, "127.0.0.1:0");
}

TEST(GatewayConfig, BadValuesFailFastNamingTheVariable) {
  const std::pair<const char*, const char*> bad[] = {
      {"CALNDRO_ALLOWED_HOSTS", "https://calndro.example.org/"},
      {"CALNDRO_TRUSTED_PROXIES", "10.0.0.0/40"},
      {"CALNDRO_HTTP_HEAD_TIMEOUT_MS", "0"},
      {"CALNDRO_HTTP_MAX_CONNECTIONS_PER_ADDRESS", "x"},
      {"CALNDRO_HTTP_MAX_LINGERING_CONNECTIONS_PER_ADDRESS", "0"},
      {"CALNDRO_HTTP_THREADS", "4097"},
      {"CALNDRO_RPC_TIMEOUT_MS", "1"},
      {"CALNDRO_HTTP_LISTEN", "9000"},
      {"CALNDRO_PUBLIC_BASE_URL", "https://calndro.example.org/?x"},
      {"CALNDRO_EVENTS_ADDR", "events"},
  };
  for (const auto& [name, value] : bad) {
    const std::string message = error_of_load({{name, value}});
    EXPECT_TRUE(message.starts_with(std::string(name) + ": ")) << name << "=" << value << ": " << message;
  }
}

TEST(GatewayConfig, TrustedProxiesAreParsed) {
  const GatewayConfig config = config_of({{"CALNDRO_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7"}});
  EXPECT_TRUE(config.trusted_proxies.contains("10.1.2.3"));
  EXPECT_TRUE(config.trusted_proxies.contains("192.0.2.7"));
  EXPECT_FALSE(config.trusted_proxies.contains("192.0.2.8"));
}

TEST(GatewayConfig, TheInternalCredentialAndNotifyOff) {
  const GatewayConfig local = config_of({});
  EXPECT_TRUE(local.default_internal_token) << "the local default, for an event service on loopback";
  EXPECT_EQ(local.notify_address, "127.0.0.1:50052");
  EXPECT_NE(error_of_load({{"CALNDRO_EVENTS_ADDR", "dns:///events:50051"}}).find("CALNDRO_INTERNAL_TOKEN"),
            std::string::npos)
      << "events beyond loopback would not believe the forwarded addresses";
  const GatewayConfig remote = config_of({{"CALNDRO_EVENTS_ADDR", "dns:///events:50051"},
                                          {"CALNDRO_INTERNAL_TOKEN", "0123456789abcdef0123456789abcdef"}});
  EXPECT_EQ(remote.internal_token, "0123456789abcdef0123456789abcdef");
  EXPECT_FALSE(remote.default_internal_token);
  EXPECT_EQ(config_of({{"CALNDRO_NOTIFY_ADDR", "off"}}).notify_address, "")
      << "off: /readyz asks the event service only";
}

}  // namespace
}  // namespace calndro::gateway
