#pragma once

#include <prometheus/counter.h>
#include <prometheus/histogram.h>

#include <string>

#include "common/metrics/metrics.h"

namespace calndro::gateway {

// The gateway's request metrics: count by route, method and status, and a
// latency histogram by route. Routes are templates ("/{id}/log/"), never raw
// paths, so the number of series stays bounded.
class HttpMetrics {
 public:
  explicit HttpMetrics(Metrics& metrics);
  void observe(const std::string& route, const std::string& method, int status, double seconds);

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& latency_;
};

}  // namespace calndro::gateway
