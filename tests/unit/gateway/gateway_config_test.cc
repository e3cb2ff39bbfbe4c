#include "gateway/gateway_config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace calndro::gateway {
namespace {

// Sets one variable for the life of the object.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
  ~ScopedEnv() { ::unsetenv(name_); }

 private:
  const char* name_;
};

std::string error_of_load() {
  try {
    load_config();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(GatewayConfig, FrontDoorDefaults) {
  for (const char* name :
       {"CALNDRO_GATEWAY_METRICS_LISTEN", "CALNDRO_HTTP_HEAD_TIMEOUT_MS",
        "CALNDRO_HTTP_MAX_CONNECTIONS_PER_ADDRESS", "CALNDRO_HTTP_MAX_LINGERING_CONNECTIONS_PER_ADDRESS",
        "CALNDRO_ALLOWED_HOSTS", "CALNDRO_TRUSTED_PROXIES", "CALNDRO_PUBLIC_BASE_URL"}) {
    ::unsetenv(name);
  }
  const GatewayConfig config = load_config();
  EXPECT_EQ(config.metrics_listen, "127.0.0.1:9103");
  EXPECT_EQ(config.head_timeout_ms, 10000);
  // A client pool or an office behind one NAT never reaches the first;
  // idle and slow connections meet the second.
  EXPECT_EQ(config.max_connections_per_address, 256);
  EXPECT_EQ(config.max_lingering_connections_per_address, 16);
  EXPECT_EQ(config.allowed_hosts, "");
  EXPECT_EQ(config.trusted_proxies, "");
}

TEST(GatewayConfig, MetricsListenOffOrHostPort) {
  {
    ScopedEnv env("CALNDRO_GATEWAY_METRICS_LISTEN", "off");
    EXPECT_EQ(load_config().metrics_listen, "");
  }
  {
    // Port 0: the kernel chooses, and the gateway logs which ("metrics served").
    ScopedEnv env("CALNDRO_GATEWAY_METRICS_LISTEN", "127.0.0.1:0");
    EXPECT_EQ(load_config().metrics_listen, "127.0.0.1:0");
  }
  ScopedEnv env("CALNDRO_GATEWAY_METRICS_LISTEN", "9103");
  EXPECT_NE(error_of_load().find("CALNDRO_GATEWAY_METRICS_LISTEN"), std::string::npos);
}

TEST(GatewayConfig, BadHostsAndProxiesFailFast) {
  {
    ScopedEnv env("CALNDRO_ALLOWED_HOSTS", "https://calndro.example.org/");
    EXPECT_NE(error_of_load().find("CALNDRO_ALLOWED_HOSTS"), std::string::npos);
  }
  {
    ScopedEnv env("CALNDRO_TRUSTED_PROXIES", "10.0.0.0/40");
    EXPECT_NE(error_of_load().find("CALNDRO_TRUSTED_PROXIES"), std::string::npos);
  }
  {
    ScopedEnv env("CALNDRO_HTTP_HEAD_TIMEOUT_MS", "0");
    EXPECT_NE(error_of_load().find("CALNDRO_HTTP_HEAD_TIMEOUT_MS"), std::string::npos);
  }
  {
    ScopedEnv env("CALNDRO_HTTP_MAX_CONNECTIONS_PER_ADDRESS", "x");
    EXPECT_NE(error_of_load().find("CALNDRO_HTTP_MAX_CONNECTIONS_PER_ADDRESS"), std::string::npos);
  }
  ScopedEnv env("CALNDRO_HTTP_MAX_LINGERING_CONNECTIONS_PER_ADDRESS", "0");
  EXPECT_NE(error_of_load().find("CALNDRO_HTTP_MAX_LINGERING_CONNECTIONS_PER_ADDRESS"), std::string::npos);
}

TEST(GatewayConfig, TheInternalCredentialAndNotifyOff) {
  for (const char* name : {"CALNDRO_INTERNAL_TOKEN", "CALNDRO_INTERNAL_TOKEN_FILE", "CALNDRO_EVENTS_ADDR",
                           "CALNDRO_NOTIFY_ADDR"}) {
    ::unsetenv(name);
  }
  const GatewayConfig local = load_config();
  EXPECT_TRUE(local.default_internal_token) << "the local default, for an event service on loopback";
  EXPECT_EQ(local.notify_address, "127.0.0.1:50052");
  {
    ScopedEnv events("CALNDRO_EVENTS_ADDR", "dns:///events:50051");
    EXPECT_NE(error_of_load().find("CALNDRO_INTERNAL_TOKEN"), std::string::npos)
        << "events beyond loopback would not believe the forwarded addresses";
    ScopedEnv token("CALNDRO_INTERNAL_TOKEN", "0123456789abcdef0123456789abcdef");
    const GatewayConfig remote = load_config();
    EXPECT_EQ(remote.internal_token, "0123456789abcdef0123456789abcdef");
    EXPECT_FALSE(remote.default_internal_token);
  }
  ScopedEnv notify("CALNDRO_NOTIFY_ADDR", "off");
  EXPECT_EQ(load_config().notify_address, "") << "off: /readyz asks the event service only";
}

}  // namespace
}  // namespace calndro::gateway
