#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace httplib {
class Server;
}

namespace calndro {

// One process's metrics (prometheus-cpp) and a tiny HTTP endpoint that
// serves them as Prometheus text at GET /metrics. prometheus-cpp's own
// "pull" server would bring civetweb; cpp-httplib is already linked.
class Metrics {
 public:
  Metrics();
  ~Metrics();

  prometheus::Registry& registry() { return *registry_; }
  // Called before each scrape, to refresh gauges that are cheaper to read
  // on demand (pool usage, outbox depth).
  void on_scrape(std::function<void()> refresh);
  // A new unlabelled gauge in this registry.
  prometheus::Gauge& gauge(const std::string& name, const std::string& help);
  // A new unlabelled histogram in this registry, with these bucket bounds.
  prometheus::Histogram& histogram(const std::string& name, const std::string& help,
                                   const std::vector<double>& buckets);
  // Prometheus text format of everything registered.
  std::string render();

  // Serves GET /metrics on `address` ("127.0.0.1:9101") in a thread of its
  // own. Returns false (and logs) when it cannot listen.
  bool serve(const std::string& address);
  void stop();

  // RPC counters and latency, filled by the gRPC interceptor.
  void observe_rpc(const std::string& method, int code, double seconds);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& rpc_total_;
  prometheus::Family<prometheus::Histogram>& rpc_seconds_;
  std::mutex mutex_;
  std::vector<std::function<void()>> refreshers_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace calndro
