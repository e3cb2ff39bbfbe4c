// calndro-gateway: HTTP/1.1 + JSON on CALNDRO_HTTP_LISTEN, translated to
// calndro.events.v1.EventService at CALNDRO_EVENTS_ADDR. Wiring only.
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <exception>
#include <thread>
#include <vector>

#include "common/base/log.h"
#include "common/base/runtime.h"
#include "common/base/signals.h"
#include "common/crypto/crypto.h"
#include "common/grpc/grpc_channel.h"
#include "common/metrics/metrics.h"
#include "gateway/api/event_client.h"
#include "gateway/api/routes.h"
#include "gateway/server/gateway_config.h"
#include "gateway/server/http_server.h"

namespace calndro::gateway {
namespace {

HttpServerOptions server_options(const GatewayConfig& config) {
  HttpServerOptions options;
  options.threads = static_cast<std::size_t>(config.http_threads);
  options.head_timeout = config.head_timeout;
  options.per_address = {
      .per_address = static_cast<std::size_t>(config.max_connections_per_address),
      .lingering_per_address = static_cast<std::size_t>(config.max_lingering_connections_per_address),
  };
  options.trusted_proxies = config.trusted_proxies;
  options.streams.slow_reader = config.sse_slow_reader;
  return options;
}

// Serves until SIGINT/SIGTERM (common/base/signals.h: only the waiter receives
// them and stops the server cleanly). False when serving failed.
bool serve_until_signal(HttpServer& server) {
  std::atomic<bool> finished{false};
  std::thread waiter([&server, &finished] {
    const int received = calndro::wait_for_termination_signal();
    if (finished) {
      return;
    }
    calndro::log::info("stopping", {{"signal", received}});
    // A signal right at start-up may come before the server runs: wait
    // for it to run, then stop it once.
    while (!finished && !server.is_running()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    server.stop();
  });
  const bool served = server.listen_after_bind();
  finished = true;
  if (!served) {
    calndro::log::error("server failed");
    // Wake the waiter so it can be joined.
    kill(getpid(), SIGTERM);
  }
  waiter.join();
  return served;
}

// Binds and serves the router until a signal stops it.
int serve(const GatewayConfig& config, const Router& router) {
  HttpServer server(router, server_options(config));
  const int port = server.bind(config.listen_host, config.listen_port);
  if (port < 0) {
    calndro::log::error("cannot listen",
                        {{"listen", config.listen_host + ":" + std::to_string(config.listen_port)}});
    return 1;
  }
  // The bound port, not the configured one: told port 0, the kernel chose.
  calndro::log::info("listening", {{"listen", config.listen_host + ":" + std::to_string(port)},
                                   {"port", port},
                                   {"events", config.events_address},
                                   {"public_base_url", config.public_base_url},
                                   {"allowed_hosts", config.allowed_hosts},
                                   {"rpc_timeout_ms", config.rpc_timeout.count()}});
  const bool served = serve_until_signal(server);
  calndro::log::info("stopped");
  return served ? 0 : 1;
}

int run() {
  const GatewayConfig config =
      load_config(calndro::settings::Values::load(calndro::settings::Process::kGateway));
  calndro::use_grpc_tls(config.tls);

  if (config.default_internal_token) {
    calndro::log::warn("CALNDRO_INTERNAL_TOKEN is not set; using the local default (fine for a laptop only)");
  }
  auto client = EventClient::connect(config.events_address, config.rpc_timeout, config.internal_token);
  std::vector<ReadinessProbe::Dependency> dependencies{{"events", client->channel()}};
  if (!config.notify_address.empty()) {
    dependencies.push_back({"notify", calndro::make_balanced_channel(config.notify_address)});
  }
  const ReadinessProbe readiness(std::move(dependencies), std::chrono::milliseconds(1000));
  calndro::Metrics metrics;
  HttpMetrics http_metrics(metrics);
  GatewayOptions options{config.public_base_url, config.allowed_hosts, config.trusted_proxies};
  options.readiness = &readiness;
  if (!config.metrics_listen.empty()) {
    options.http_metrics = &http_metrics;
    // Off the public port: request counts per route are for operators.
    metrics.serve(config.metrics_listen);  // a metrics port clash is logged, not fatal
  }
  const Router router(*client, options);
  return serve(config, router);
}

// The container health check: GET /readyz on our own port.
int probe_readiness() {
  const auto config = load_config(calndro::settings::Values::load(calndro::settings::Process::kGateway));
  const std::string host =
      config.listen_host == "0.0.0.0" || config.listen_host == "::" ? "127.0.0.1" : config.listen_host;
  httplib::Client client(host, config.listen_port);
  client.set_connection_timeout(std::chrono::seconds(2));
  client.set_read_timeout(std::chrono::seconds(3));
  const auto response = client.Get("/readyz");
  if (!response) {
    std::fprintf(stderr, "%s:%d: no answer\n", host.c_str(), config.listen_port);
    return 1;
  }
  std::fprintf(stderr, "%s:%d: %d %s\n", host.c_str(), config.listen_port, response->status,
               response->body.c_str());
  return response->status == 200 ? 0 : 1;
}

}  // namespace
}  // namespace calndro::gateway

int main(int argc, char** argv) {
  return calndro::server_main(argc, argv, "calndro-gateway", "gateway", calndro::gateway::probe_readiness,
                              calndro::gateway::run);
}
