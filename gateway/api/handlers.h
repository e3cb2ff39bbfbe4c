#pragma once

#include <httplib.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/api/event_client.h"
#include "gateway/api/gateway_options.h"
#include "gateway/api/http_errors.h"
#include "gateway/api/live_stream.h"
#include "gateway/api/route_table.h"

// One short handler per endpoint of SPEC §3 (handlers.cc). A handler writes
// its answer to `response`, or returns the error to answer (a local 400, or
// the service's status through http_errors.h). routes.cc finds the handler
// and does what it `needs` first.
namespace calndro::gateway {

struct Exchange {
  const httplib::Request& request;
  httplib::Response& response;
  EventClient& client;
  const GatewayOptions& options;
  int64_t id = 0;                                      // for /ID/... routes
  nlohmann::json document = nlohmann::json::object();  // the JSON body, without "et"
  CallMetadata meta;                                   // forwarded to the service
  std::string base;                                    // of the URLs in the answer
  // Set by a handler whose answer goes on after it returns (event_stream.h):
  // the server writes it instead of `response`.
  std::optional<StreamingAnswer> streaming;
};

using Outcome = std::optional<HttpError>;  // nullopt: `response` holds the answer

enum class Needs {
  kNothing,     // probes, the spec and the page's files
  kCall,        // a JSON body, the caller's credentials and `base`
  kPageOrCall,  // a browser gets the page (web_page.h), any other client a call
};

struct HandlerSpec {
  std::string_view method;
  Needs needs;
  Outcome (*handler)(Exchange&) = nullptr;
};

// The handler of a found route and method; nullptr when there is none.
const HandlerSpec* find_handler(Route route, std::string_view method);

}  // namespace calndro::gateway
