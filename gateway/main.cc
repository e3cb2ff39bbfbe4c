// calndro-gateway: HTTP/1.1 + JSON on CALNDRO_HTTP_LISTEN, translated to
// calndro.events.v1.EventService at CALNDRO_EVENTS_ADDR. Wiring only.
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <exception>
#include <thread>

#include "common/crypto.h"
#include "common/log.h"
#include "gateway/event_client.h"
#include "gateway/gateway_config.h"
#include "gateway/http_server.h"
#include "gateway/routes.h"

namespace {

int run() {
  using namespace calndro::gateway;
  // SIGINT/SIGTERM are blocked before any thread starts (gRPC, the pool),
  // so only the waiter below receives them and stops the server cleanly.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  calndro::init_crypto();
  const GatewayConfig config = load_config();

  auto client = EventClient::connect(config.events_address, std::chrono::milliseconds(config.rpc_timeout_ms));
  Router router(*client, GatewayOptions{config.public_base_url});
  HttpServer server(router);
  if (server.bind(config.listen_host, config.listen_port) < 0) {
    calndro::log::error("cannot listen", {{"listen", config.listen_host + ":" + std::to_string(config.listen_port)}});
    return 1;
  }

  std::atomic<bool> finished{false};
  std::thread waiter([&server, &finished, signals] {
    int received = 0;
    sigwait(&signals, &received);
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

  calndro::log::info("listening", {{"listen", config.listen_host + ":" + std::to_string(config.listen_port)},
                                   {"events", config.events_address},
                                   {"rpc_timeout_ms", config.rpc_timeout_ms}});
  const bool served = server.listen_after_bind();
  finished = true;
  if (!served) {
    calndro::log::error("server failed");
    // Wake the waiter so it can be joined.
    kill(getpid(), SIGTERM);
  }
  waiter.join();
  calndro::log::info("stopped");
  return served ? 0 : 1;
}

}  // namespace

int main() {
  calndro::log::set_service_name("gateway");
  try {
    return run();
  } catch (const std::exception& e) {
    calndro::log::error("fatal", {{"error", e.what()}});
    return 1;
  }
}
