#pragma once

#include <string>

#include "gateway/api/client_address.h"
#include "gateway/api/http_metrics.h"
#include "gateway/api/readiness.h"

namespace calndro::gateway {

// What the Router needs besides the event service (gateway_config.h reads it).
struct GatewayOptions {
  // CALNDRO_PUBLIC_BASE_URL (no trailing slash); empty: "http://" + Host.
  std::string public_base_url;
  // CALNDRO_ALLOWED_HOSTS as written (common/text/allowed_hosts.h); the Router
  // parses it (throws std::invalid_argument when malformed).
  std::string allowed_hosts;
  // Whose X-Forwarded-For is believed (gateway/api/client_address.h).
  TrustedProxies trusted_proxies;
  // Answers GET /readyz; absent: /readyz is 200 whenever /healthz is.
  const ReadinessProbe* readiness = nullptr;
  // Counts every request (served on the metrics address, not here).
  HttpMetrics* http_metrics = nullptr;
};

}  // namespace calndro::gateway
