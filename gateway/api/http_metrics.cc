#include "gateway/api/http_metrics.h"

namespace calndro::gateway {

HttpMetrics::HttpMetrics(Metrics& metrics)
    : requests_(prometheus::BuildCounter()
                    .Name("calndro_http_requests_total")
                    .Help("HTTP requests handled, by route template, method and status")
                    .Register(metrics.registry())),
      latency_(prometheus::BuildHistogram()
                   .Name("calndro_http_request_duration_seconds")
                   .Help("HTTP request latency, by route template")
                   .Register(metrics.registry())) {}

void HttpMetrics::observe(const std::string& route, const std::string& method, int status, double seconds) {
  static const prometheus::Histogram::BucketBoundaries buckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                                  0.05,   0.1,   0.25,   0.5,   1,    2.5};
  requests_.Add({{"route", route}, {"method", method}, {"status", std::to_string(status)}}).Increment();
  latency_.Add({{"route", route}}, buckets).Observe(seconds);
}

}  // namespace calndro::gateway
