#include "common/metrics/metrics.h"

#include <httplib.h>
#include <prometheus/text_serializer.h>

#include "common/base/log.h"

namespace calndro {
namespace {

const prometheus::Histogram::BucketBoundaries& latency_buckets() {
  static const prometheus::Histogram::BucketBoundaries buckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                                  0.05,   0.1,   0.25,   0.5,   1,    2.5};
  return buckets;
}

}  // namespace

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      rpc_total_(prometheus::BuildCounter()
                     .Name("calndro_rpc_total")
                     .Help("gRPC calls handled, by method and status code")
                     .Register(*registry_)),
      rpc_seconds_(prometheus::BuildHistogram()
                       .Name("calndro_rpc_duration_seconds")
                       .Help("gRPC call latency, by method")
                       .Register(*registry_)) {}

Metrics::~Metrics() {
  stop();
}

void Metrics::on_scrape(std::function<void()> refresh) {
  std::lock_guard lock(mutex_);
  refreshers_.push_back(std::move(refresh));
}

prometheus::Gauge& Metrics::gauge(const std::string& name, const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(*registry_).Add({});
}

prometheus::Histogram& Metrics::histogram(const std::string& name, const std::string& help,
                                          const std::vector<double>& buckets) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(*registry_).Add({}, buckets);
}

std::string Metrics::render() {
  {
    std::lock_guard lock(mutex_);
    for (const auto& refresh : refreshers_) {
      refresh();
    }
  }
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

void Metrics::observe_rpc(const std::string& method, int code, double seconds) {
  rpc_total_.Add({{"method", method}, {"code", std::to_string(code)}}).Increment();
  rpc_seconds_.Add({{"method", method}}, latency_buckets()).Observe(seconds);
}

bool Metrics::serve(const std::string& address) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) {
    log::error("metrics address must be host:port", {{"address", address}});
    return false;
  }
  const std::string host = address.substr(0, colon);
  const int port = std::stoi(address.substr(colon + 1));
  server_ = std::make_unique<httplib::Server>();
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& response) {
    response.set_content(render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  const int bound =
      port == 0 ? server_->bind_to_any_port(host) : (server_->bind_to_port(host, port) ? port : -1);
  if (bound < 0) {
    log::error("cannot listen for metrics", {{"address", address}});
    server_.reset();
    return false;
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // The bound port: told port 0, the kernel chose (tests read it from here).
  log::info("metrics served", {{"address", host + ":" + std::to_string(bound)}, {"port", bound}});
  return true;
}

void Metrics::stop() {
  if (server_) {
    server_->stop();
  }
  if (thread_.joinable()) {
    thread_.join();
  }
}

}  // namespace calndro
