#pragma once

#include <httplib.h>

#include <optional>
#include <string>

#include "common/text/allowed_hosts.h"
#include "gateway/api/event_client.h"
#include "gateway/api/gateway_options.h"
#include "gateway/api/live_stream.h"
#include "gateway/api/route_table.h"

// Runs a request against the event service: the route (route_table.h),
// then Host, body type and credentials, then the endpoint's handler
// (handlers.h).
namespace calndro::gateway {

class Router {
 public:
  Router(EventClient& client, GatewayOptions options);

  // Handles one request. `body` is the request body (the server reads it
  // for GET too); `request_id` is forwarded as x-request-id. Never throws.
  // A stream to write instead of `response` (GET /ID/changes/), which the
  // server must take over; nullopt: `response` is the answer.
  [[nodiscard]] std::optional<StreamingAnswer> handle(const httplib::Request& request,
                                                      const std::string& body, const std::string& request_id,
                                                      httplib::Response& response) const;

  // The base of absolute URLs for this request (its Host is allowed).
  std::string base_url(const httplib::Request& request) const;
  // The client's address as sent to the event service (x-calndro-client-addr).
  std::string client_address(const httplib::Request& request) const;

 private:
  std::optional<StreamingAnswer> handle_unmeasured(const httplib::Request& request, const std::string& body,
                                                   const std::string& request_id,
                                                   httplib::Response& response) const;
  std::optional<StreamingAnswer> dispatch(const httplib::Request& request, const std::string& body,
                                          const std::string& request_id, httplib::Response& response) const;
  bool host_allowed(const httplib::Request& request, const RouteMatch& match,
                    httplib::Response& response) const;

  EventClient& client_;
  GatewayOptions options_;
  AllowedHosts allowed_hosts_;
};

}  // namespace calndro::gateway
