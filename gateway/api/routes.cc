#include "gateway/api/routes.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "common/base/log.h"
#include "gateway/api/credentials.h"
#include "gateway/api/cross_origin.h"
#include "gateway/api/handlers.h"
#include "gateway/api/http_errors.h"
#include "gateway/api/http_response.h"
#include "gateway/api/json_mapping.h"
#include "gateway/api/request_text.h"
#include "gateway/web/web_page.h"

namespace calndro::gateway {

namespace {

bool sane_host(std::string_view host) {
  if (host.empty() || host.size() > 255) {
    return false;
  }
  return std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == ':' || c == '[' || c == ']' || c == '_';
  });
}

// Answers what is not a found route: 404, 301 (keeping the query), 405.
void answer_unrouted(const httplib::Request& request, const RouteMatch& match, httplib::Response& response) {
  if (match.kind == RouteMatch::Kind::kRedirect) {
    std::string location = match.redirect_path;
    if (auto query = request.target.find('?'); query != std::string::npos) {
      location += request.target.substr(query);
    }
    response.status = 301;
    response.set_header("Location", location);
  } else if (match.kind == RouteMatch::Kind::kMethodNotAllowed) {
    response.set_header("Allow", match.allow);
    send_json(response, 405,
              dump(nlohmann::json{{"detail", "Method \"" + request.method + "\" not allowed."}}));
  } else {
    send_json(response, 404, R"({"detail":"Not found."})");
  }
}

// Serves the page when the browser prefers it. The same URL answers JSON or
// the page: caches must key on Accept.
bool served_page(const httplib::Request& request, httplib::Response& response) {
  response.set_header("Vary", "Accept");
  if (!prefers_html(request.get_header_value("Accept"))) {
    return false;
  }
  // The page calls the REST API itself with the token; serving it calls no
  // RPC, so it logs nothing and needs no credentials.
  send_asset(response, page_asset());
  return true;
}

// Only JSON: a cross-site <form enctype="text/plain"> (no preflight) must
// never pass for a JSON body. A body without Content-Type is refused too.
std::optional<HttpError> check_body_type(const httplib::Request& request, const std::string& body) {
  const bool has_body =
      !body.empty() || request.has_header("Transfer-Encoding") ||
      (request.has_header("Content-Length") && request.get_header_value("Content-Length") != "0");
  const std::string type = request.get_header_value("Content-Type");
  if (!has_body || json_content_type(type)) {
    return std::nullopt;
  }
  return detail_error(415, type.empty()
                               ? std::string("A request body needs Content-Type: application/json.")
                               : "Unsupported media type \"" + quoted_for_error(type) + "\" in request.");
}

// The body as a JSON object and the credentials, for a handler that calls the service.
std::optional<HttpError> prepare_call(const std::string& body, Exchange& exchange) {
  if (auto error = check_body_type(exchange.request, body)) {
    return error;
  }
  std::string parse_error;
  std::optional<nlohmann::json> parsed = parse_json_object(body, parse_error);
  if (!parsed) {
    return detail_error(400, parse_error);
  }
  exchange.document = std::move(*parsed);
  return read_credentials(exchange.request, exchange.document, exchange.meta);
}

}  // namespace

Router::Router(EventClient& client, GatewayOptions options)
    : client_(client),
      options_(std::move(options)),
      allowed_hosts_(AllowedHosts::parse(options_.allowed_hosts, options_.public_base_url)) {
  while (!options_.public_base_url.empty() && options_.public_base_url.back() == '/') {
    options_.public_base_url.pop_back();
  }
}

std::string Router::base_url(const httplib::Request& request) const {
  if (!options_.public_base_url.empty()) {
    return options_.public_base_url;
  }
  const std::string host = request.get_header_value("Host");
  return "http://" + (sane_host(host) ? host : std::string("localhost"));
}

std::string Router::client_address(const httplib::Request& request) const {
  std::vector<std::string> forwarded_for;
  if (!options_.trusted_proxies.empty()) {
    auto [begin, end] = request.headers.equal_range("X-Forwarded-For");
    for (auto it = begin; it != end; ++it) {
      forwarded_for.push_back(it->second);
    }
  }
  return choose_client_address(request.remote_addr, forwarded_for, options_.trusted_proxies);
}

std::optional<StreamingAnswer> Router::handle(const httplib::Request& request, const std::string& body,
                                              const std::string& request_id,
                                              httplib::Response& response) const {
  if (options_.http_metrics == nullptr) {
    return handle_unmeasured(request, body, request_id, response);
  }
  // A stream is measured to its first message: what its caller waited for.
  const auto started = std::chrono::steady_clock::now();
  std::optional<StreamingAnswer> streaming = handle_unmeasured(request, body, request_id, response);
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
  const std::string method =
      (request.method == "GET" || request.method == "POST" || request.method == "PUT" ||
       request.method == "PATCH" || request.method == "DELETE")
          ? request.method
          : std::string("OTHER");
  options_.http_metrics->observe(route_label(match_route(request.method, request.path)), method,
                                 response.status, elapsed.count());
  return streaming;
}

std::optional<StreamingAnswer> Router::handle_unmeasured(const httplib::Request& request,
                                                         const std::string& body,
                                                         const std::string& request_id,
                                                         httplib::Response& response) const {
  try {
    return dispatch(request, body, request_id, response);
  } catch (const std::exception& e) {
    log::error("request failed", {{"request_id", request_id}, {"error", e.what()}});
    response.headers.erase("Link");
    send_json(response, 500, R"({"detail":"Internal server error."})");
  } catch (...) {
    log::error("request failed", {{"request_id", request_id}});
    send_json(response, 500, R"({"detail":"Internal server error."})");
  }
  return std::nullopt;
}

// Probes send pod addresses as Host; every other answer may carry links.
bool Router::host_allowed(const httplib::Request& request, const RouteMatch& match,
                          httplib::Response& response) const {
  const bool probe = match.kind == RouteMatch::Kind::kFound &&
                     (match.route == Route::kHealth || match.route == Route::kReady);
  const std::string host = request.get_header_value("Host");
  if (probe || (request.get_header_value_count("Host") == 1 && allowed_hosts_.allows(host))) {
    return true;
  }
  send_error(response, detail_error(400, "Invalid Host header: '" + quoted_for_error(host) +
                                             "'. It is not among the gateway's allowed hosts "
                                             "(CALNDRO_ALLOWED_HOSTS)."));
  return false;
}

std::optional<StreamingAnswer> Router::dispatch(const httplib::Request& request, const std::string& body,
                                                const std::string& request_id,
                                                httplib::Response& response) const {
  const RouteMatch match = match_route(request.method, request.path);
  if (!host_allowed(request, match, response)) {
    return std::nullopt;
  }
  const HandlerSpec* spec =
      match.kind == RouteMatch::Kind::kFound ? find_handler(match.route, request.method) : nullptr;
  // Before 404, 405 and 301, as a middleware would: a write from another
  // site learns nothing about the paths either.
  const ReadGuard guard =
      spec != nullptr && spec->needs != Needs::kNothing ? ReadGuard::kCredentialed : ReadGuard::kOpen;
  if (auto refusal = cross_origin_refusal(request_source(request), guard)) {
    send_error(response, detail_error(403, std::move(*refusal)));
    return std::nullopt;
  }
  if (spec == nullptr) {
    answer_unrouted(request, match, response);
    return std::nullopt;
  }
  if (spec->needs == Needs::kPageOrCall && served_page(request, response)) {
    return std::nullopt;
  }
  Exchange exchange{request, response, client_, options_, match.id, nlohmann::json::object(), {}, {}, {}};
  Outcome outcome;
  if (spec->needs != Needs::kNothing) {
    exchange.meta.request_id = request_id;
    exchange.meta.client_address = client_address(request);
    exchange.base = base_url(request);
    outcome = prepare_call(body, exchange);
  }
  if (!outcome) {
    outcome = spec->handler(exchange);
  }
  if (outcome) {
    send_error(response, *outcome);
    return std::nullopt;
  }
  return std::move(exchange.streaming);
}

}  // namespace calndro::gateway
