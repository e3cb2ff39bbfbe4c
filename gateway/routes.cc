#include "gateway/routes.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <optional>
#include <vector>

#include "common/log.h"
#include "gateway/http_errors.h"
#include "gateway/json_mapping.h"
#include "gateway/openapi.h"
#include "gateway/web_page.h"

namespace calndro::gateway {

using nlohmann::json;

namespace {

constexpr int kDefaultPageSize = 100;
constexpr std::size_t kMaxCursorLength = 1024;

RouteMatch found(Route route, int64_t id = 0) {
  RouteMatch match;
  match.kind = RouteMatch::Kind::kFound;
  match.route = route;
  match.id = id;
  return match;
}

RouteMatch not_found() {
  return RouteMatch{};
}

RouteMatch redirect(std::string path) {
  RouteMatch match;
  match.kind = RouteMatch::Kind::kRedirect;
  match.redirect_path = std::move(path);
  return match;
}

// `found(route)` when `method` is one of `allowed`, else 405 with Allow.
RouteMatch with_methods(std::string_view method, std::initializer_list<std::string_view> allowed, Route route,
                        int64_t id = 0) {
  if (std::find(allowed.begin(), allowed.end(), method) != allowed.end()) {
    return found(route, id);
  }
  RouteMatch match;
  match.kind = RouteMatch::Kind::kMethodNotAllowed;
  match.route = route;
  match.id = id;
  for (auto name : allowed) {
    if (!match.allow.empty()) {
      match.allow += ", ";
    }
    match.allow += name;
  }
  return match;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t end = text.find(separator, start);
    if (end == std::string_view::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
}

// gRPC metadata values must be printable ASCII.
bool printable_ascii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

bool sane_host(std::string_view host) {
  if (host.empty() || host.size() > 255) {
    return false;
  }
  return std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == ':' || c == '[' || c == ']' || c == '_';
  });
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

// A client's text quoted in an error: printable ASCII, at most 64 characters.
std::string quoted_for_error(std::string_view text) {
  constexpr std::size_t kMax = 64;
  std::string out;
  for (char c : text.substr(0, kMax)) {
    out.push_back(c >= 0x20 && c <= 0x7e ? c : '?');
  }
  if (text.size() > kMax) {
    out += "...";
  }
  return out;
}

void send_error(httplib::Response& response, const HttpError& error) {
  for (const auto& [name, value] : error.headers) {
    response.set_header(name, value);
  }
  send_json(response, error.status, dump(error.body));
}

void send_asset(httplib::Response& response, const StaticAsset& asset) {
  for (const auto& [name, value] : asset_headers(asset)) {
    response.set_header(name, value);
  }
  response.status = 200;
  response.set_content(std::string(asset.body), std::string(asset.content_type));
}

void send_field_errors(httplib::Response& response, const FieldErrors& errors) {
  send_json(response, 400, dump(errors.to_json()));
}

struct Paging {
  int32_t page_size = 0;
  std::string page_token;
  int link_limit = kDefaultPageSize;
};

// ?limit=N&after=CURSOR. Returns false (errors filled) on bad values.
bool read_paging(const httplib::Request& request, Paging& paging, FieldErrors& errors) {
  if (request.has_param("limit")) {
    const std::string text = request.get_param_value("limit");
    int64_t value = parse_id(text);
    if (value <= 0 || value > std::numeric_limits<int32_t>::max()) {
      errors.add("limit", "A positive integer is required.");
    } else {
      paging.page_size = static_cast<int32_t>(value);
      paging.link_limit = static_cast<int>(value);
    }
  }
  if (request.has_param("after")) {
    paging.page_token = request.get_param_value("after");
    if (paging.page_token.size() > kMaxCursorLength || !printable_ascii(paging.page_token)) {
      errors.add("after", "Invalid cursor.");
    }
  }
  return errors.empty();
}

void add_next_link(httplib::Response& response, const std::string& base, const std::string& path,
                   const Paging& paging, const std::string& next_token) {
  if (next_token.empty()) {
    return;
  }
  response.set_header("Link", "<" + base + path + "?limit=" + std::to_string(paging.link_limit) +
                                  "&after=" + percent_encode(next_token) + ">; rel=\"next\"");
}

}  // namespace

int64_t parse_id(std::string_view text) {
  if (text.empty() || text.size() > 19) {
    return 0;
  }
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value <= 0) {
    return 0;
  }
  return value;
}

RouteMatch match_route(std::string_view method, std::string_view path) {
  if (path == "/") {
    return with_methods(method, {"GET", "POST"}, Route::kEvents);
  }
  if (path == "/healthz") {
    return with_methods(method, {"GET"}, Route::kHealth);
  }
  if (path == "/readyz") {
    return with_methods(method, {"GET"}, Route::kReady);
  }
  if (path == "/openapi") {
    return with_methods(method, {"GET"}, Route::kOpenApi);
  }
  if (path == "/api-token-auth/") {
    return with_methods(method, {"POST", "DELETE"}, Route::kApiToken);
  }
  if (path.starts_with("/static/")) {
    if (find_static_asset(path) == nullptr) {
      return not_found();
    }
    return with_methods(method, {"GET"}, Route::kStatic);
  }
  if (path.empty() || path.front() != '/') {
    return not_found();
  }
  auto parts = split(path.substr(1), '/');
  // The missing-slash redirect depends on the spelling only (any run of digits, 0
  // too), so it answers the same whether or not the number names an event; the
  // target then answers 404 for a number that cannot be an id.
  const bool number = !parts[0].empty() && std::all_of(parts[0].begin(), parts[0].end(),
                                                       [](char c) { return c >= '0' && c <= '9'; });
  if (!number) {
    return not_found();
  }
  const std::string slashed = std::string(path) + "/";
  if (parts.size() == 1 || (parts.size() == 2 && (parts[1] == "log" || parts[1] == "notify"))) {
    return redirect(slashed);  // /ID, /ID/log, /ID/notify
  }
  const int64_t id = parse_id(parts[0]);
  if (id == 0) {
    return not_found();
  }
  switch (parts.size()) {
    case 2:  // /ID/
      if (parts[1].empty()) {
        return with_methods(method, {"GET", "PATCH", "DELETE"}, Route::kEvent, id);
      }
      return not_found();
    case 3:  // /ID/log/ or /ID/notify/
      if (!parts[2].empty()) {
        return not_found();
      }
      if (parts[1] == "log") {
        return with_methods(method, {"GET"}, Route::kLog, id);
      }
      if (parts[1] == "notify") {
        return with_methods(method, {"POST"}, Route::kNotify, id);
      }
      return not_found();
    default:
      return not_found();
  }
}

bool json_content_type(std::string_view content_type) {
  const auto semicolon = content_type.find(';');
  const auto trimmed = [](std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
      text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
      text.remove_suffix(1);
    }
    return text;
  };
  if (lowercase(trimmed(content_type.substr(0, semicolon))) != "application/json") {
    return false;
  }
  std::string_view parameters =
      semicolon == std::string_view::npos ? std::string_view() : content_type.substr(semicolon + 1);
  while (!parameters.empty()) {
    const auto next = parameters.find(';');
    const std::string_view parameter = trimmed(parameters.substr(0, next));
    parameters = next == std::string_view::npos ? std::string_view() : parameters.substr(next + 1);
    const auto equals = parameter.find('=');
    if (equals != std::string_view::npos && lowercase(trimmed(parameter.substr(0, equals))) == "charset") {
      std::string value = lowercase(trimmed(parameter.substr(equals + 1)));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      if (value != "utf-8" && value != "utf8") {
        return false;
      }
    }
  }
  return true;
}

void send_json(httplib::Response& response, int status, const std::string& body) {
  response.status = status;
  response.set_content(body, "application/json");
}

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

std::string route_label(const RouteMatch& match) {
  if (match.kind == RouteMatch::Kind::kNotFound) {
    return "unmatched";
  }
  if (match.kind == RouteMatch::Kind::kRedirect) {
    return "redirect";
  }
  switch (match.route) {
    case Route::kHealth:
      return "/healthz";
    case Route::kReady:
      return "/readyz";
    case Route::kOpenApi:
      return "/openapi";
    case Route::kEvents:
      return "/";
    case Route::kEvent:
      return "/{id}/";
    case Route::kNotify:
      return "/{id}/notify/";
    case Route::kLog:
      return "/{id}/log/";
    case Route::kApiToken:
      return "/api-token-auth/";
    case Route::kStatic:
      return "/static/";
  }
  return "unmatched";
}

void Router::handle(const httplib::Request& request, const std::string& body, const std::string& request_id,
                    httplib::Response& response) const {
  if (options_.http_metrics != nullptr) {
    const auto started = std::chrono::steady_clock::now();
    handle_unmeasured(request, body, request_id, response);
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
    const std::string method = (request.method == "GET" || request.method == "POST" ||
                                request.method == "PATCH" || request.method == "DELETE")
                                   ? request.method
                                   : std::string("OTHER");
    options_.http_metrics->observe(route_label(match_route(request.method, request.path)), method,
                                   response.status, elapsed.count());
    return;
  }
  handle_unmeasured(request, body, request_id, response);
}

void Router::handle_unmeasured(const httplib::Request& request, const std::string& body,
                               const std::string& request_id, httplib::Response& response) const {
  try {
    dispatch(request, body, request_id, response);
  } catch (const std::exception& e) {
    log::error("request failed", {{"request_id", request_id}, {"error", e.what()}});
    response.headers.erase("Link");
    send_json(response, 500, R"({"detail":"Internal server error."})");
  } catch (...) {
    log::error("request failed", {{"request_id", request_id}});
    send_json(response, 500, R"({"detail":"Internal server error."})");
  }
}

void Router::dispatch(const httplib::Request& request, const std::string& body, const std::string& request_id,
                      httplib::Response& response) const {
  const RouteMatch match = match_route(request.method, request.path);
  // Probes send pod addresses as Host; every other answer may carry links.
  const bool probe = match.kind == RouteMatch::Kind::kFound &&
                     (match.route == Route::kHealth || match.route == Route::kReady);
  if (!probe) {
    const std::string host = request.get_header_value("Host");
    if (request.get_header_value_count("Host") != 1 || !allowed_hosts_.allows(host)) {
      send_error(response, detail_error(400, "Invalid Host header: '" + quoted_for_error(host) +
                                                 "'. It is not among the gateway's allowed hosts "
                                                 "(CALNDRO_ALLOWED_HOSTS)."));
      return;
    }
  }
  switch (match.kind) {
    case RouteMatch::Kind::kNotFound:
      send_json(response, 404, R"({"detail":"Not found."})");
      return;
    case RouteMatch::Kind::kRedirect: {
      std::string location = match.redirect_path;
      if (auto query = request.target.find('?'); query != std::string::npos) {
        location += request.target.substr(query);
      }
      response.status = 301;
      response.set_header("Location", location);
      return;
    }
    case RouteMatch::Kind::kMethodNotAllowed:
      response.set_header("Allow", match.allow);
      send_json(response, 405, dump(json{{"detail", "Method \"" + request.method + "\" not allowed."}}));
      return;
    case RouteMatch::Kind::kFound:
      break;
  }

  if (match.route == Route::kHealth) {
    send_json(response, 200, R"({"status":"ok"})");
    return;
  }
  if (match.route == Route::kReady) {
    if (options_.readiness == nullptr) {
      send_json(response, 200, R"({"status":"ready"})");
      return;
    }
    const Readiness readiness = options_.readiness->check();
    send_json(response, readiness.ready ? 200 : 503, dump(readiness.body));
    return;
  }
  if (match.route == Route::kOpenApi) {
    send_json(response, 200, std::string(openapi_document()));
    return;
  }
  if (match.route == Route::kStatic) {
    send_asset(response, *find_static_asset(request.path));
    return;
  }
  if ((match.route == Route::kEvent || match.route == Route::kLog) && request.method == "GET") {
    // The same URL answers JSON or the page: caches must key on Accept.
    response.set_header("Vary", "Accept");
    if (prefers_html(request.get_header_value("Accept"))) {
      // The page calls the REST API itself with the token; serving it calls
      // no RPC, so it logs nothing and needs no credentials.
      send_asset(response, page_asset());
      return;
    }
  }

  // Only JSON: a cross-site <form enctype="text/plain"> (no preflight) must
  // never pass for a JSON body. A body without Content-Type is refused too.
  const bool has_body =
      !body.empty() || request.has_header("Transfer-Encoding") ||
      (request.has_header("Content-Length") && request.get_header_value("Content-Length") != "0");
  if (has_body && !json_content_type(request.get_header_value("Content-Type"))) {
    const std::string type = request.get_header_value("Content-Type");
    send_error(
        response,
        detail_error(415, type.empty()
                              ? std::string("A request body needs Content-Type: application/json.")
                              : "Unsupported media type \"" + quoted_for_error(type) + "\" in request."));
    return;
  }

  std::string parse_error;
  std::optional<json> parsed = parse_json_object(body, parse_error);
  if (!parsed) {
    send_error(response, detail_error(400, parse_error));
    return;
  }
  json& document = *parsed;

  CallMetadata meta;
  meta.request_id = request_id;
  meta.client_address = client_address(request);
  meta.authorization = request.get_header_value("Authorization");
  if (meta.authorization.size() > kMaxAuthorizationBytes) {
    send_error(response, detail_error(431, "The Authorization header is too large (at most " +
                                               std::to_string(kMaxAuthorizationBytes) + " bytes)."));
    return;
  }
  if (!printable_ascii(meta.authorization)) {
    send_error(response, detail_error(400, "Malformed Authorization header."));
    return;
  }
  // The email token: header, else ?et=, else the body's "et" (httpie's et=KEY).
  FieldErrors errors;
  std::optional<std::string> body_token;
  if (auto et = document.find("et"); et != document.end()) {
    if (et->is_string()) {
      body_token = et->get<std::string>();
    } else {
      errors.add("et", "Not a valid string.");
    }
    document.erase(et);
  }
  if (request.has_header("X-Email-Token")) {
    meta.email_token = request.get_header_value("X-Email-Token");
    if (meta.email_token.size() > kMaxEmailTokenBytes) {
      send_error(response, detail_error(431, "The X-Email-Token header is too large (at most " +
                                                 std::to_string(kMaxEmailTokenBytes) + " bytes)."));
      return;
    }
  } else if (request.has_param("et")) {
    meta.email_token = request.get_param_value("et");
  } else if (body_token) {
    meta.email_token = *body_token;
  }
  if (!printable_ascii(meta.email_token) || meta.email_token.size() > kMaxEmailTokenBytes) {
    errors.add("et", "Malformed email token.");
  }
  if (!errors.empty()) {
    send_field_errors(response, errors);
    return;
  }

  const std::string base = base_url(request);
  const int64_t id = match.id;
  grpc::Status status;

  switch (match.route) {
    case Route::kEvents:
      if (request.method == "GET") {
        Paging paging;
        if (!read_paging(request, paging, errors)) {
          send_field_errors(response, errors);
          return;
        }
        v1::ListEventsRequest rpc;
        rpc.set_page_size(paging.page_size);
        rpc.set_page_token(paging.page_token);
        v1::ListEventsResponse reply;
        status = client_.list_events(meta, rpc, &reply);
        if (status.ok()) {
          add_next_link(response, base, request.path, paging, reply.next_page_token());
          send_json(response, 200, event_list_body(reply.events(), base));
          return;
        }
      } else {
        v1::CreateEventRequest rpc;
        create_request_from_json(document, rpc, errors);
        if (!errors.empty()) {
          send_field_errors(response, errors);
          return;
        }
        v1::Event reply;
        status = client_.create_event(meta, rpc, &reply);
        if (status.ok()) {
          send_json(response, 201, event_body(reply, base));
          return;
        }
      }
      break;

    case Route::kEvent:
      if (request.method == "GET") {
        v1::GetEventRequest rpc;
        rpc.set_id(id);
        v1::Event reply;
        status = client_.get_event(meta, rpc, &reply);
        if (status.ok()) {
          send_json(response, 200, event_body(reply, base));
          return;
        }
      } else if (request.method == "PATCH") {
        v1::UpdateEventRequest rpc;
        rpc.set_id(id);
        const bool any = update_request_from_json(document, rpc, errors);
        if (!errors.empty()) {
          send_field_errors(response, errors);
          return;
        }
        if (!any) {
          // Answered here, so that nothing can be logged for it.
          send_error(response, detail_error(400, "Provide slots and/or title."));
          return;
        }
        v1::Event reply;
        status = client_.update_event(meta, rpc, &reply);
        if (status.ok()) {
          send_json(response, 202, event_body(reply, base));
          return;
        }
      } else {
        v1::DeleteEventRequest rpc;
        rpc.set_id(id);
        status = client_.delete_event(meta, rpc);
        if (status.ok()) {
          response.status = 204;
          return;
        }
      }
      break;

    case Route::kNotify: {
      v1::NotifyPartiesRequest rpc;
      rpc.set_id(id);
      notify_request_from_json(document, rpc, errors);
      if (!errors.empty()) {
        send_field_errors(response, errors);
        return;
      }
      rpc.set_link_base_url(base);
      v1::NotifyPartiesResponse reply;
      status = client_.notify_parties(meta, rpc, &reply);
      if (status.ok()) {
        send_json(response, 202, notify_response_body(reply, id, base));
        return;
      }
      break;
    }

    case Route::kLog: {
      Paging paging;
      if (!read_paging(request, paging, errors)) {
        send_field_errors(response, errors);
        return;
      }
      v1::GetEventLogRequest rpc;
      rpc.set_id(id);
      rpc.set_page_size(paging.page_size);
      rpc.set_page_token(paging.page_token);
      v1::EventLog reply;
      status = client_.get_event_log(meta, rpc, &reply);
      if (status.ok()) {
        add_next_link(response, base, request.path, paging, reply.next_page_token());
        send_json(response, 200, event_log_body(reply, id, base));
        return;
      }
      break;
    }

    case Route::kApiToken: {
      if (request.method == "DELETE") {
        status = client_.revoke_api_token(meta, v1::RevokeApiTokenRequest());
        if (status.ok()) {
          response.status = 204;
          return;
        }
        break;
      }
      v1::CreateApiTokenRequest rpc;
      api_token_request_from_json(document, rpc, errors);
      if (!errors.empty()) {
        send_field_errors(response, errors);
        return;
      }
      v1::CreateApiTokenResponse reply;
      status = client_.create_api_token(meta, rpc, &reply);
      if (status.ok()) {
        json body{{"token", reply.token()}};
        if (reply.has_expires()) {
          body["expires"] = format_instant(from_timestamp(reply.expires()));
        }
        send_json(response, 200, dump(body));
        return;
      }
      break;
    }

    default:
      send_json(response, 404, R"({"detail":"Not found."})");
      return;
  }
  send_error(response, http_error_from_status(status));
}

}  // namespace calndro::gateway
