#pragma once

#include <httplib.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "gateway/api/client_address.h"
#include "gateway/api/routes.h"
#include "gateway/server/connection_registry.h"
#include "gateway/server/sse_hub.h"

// The HTTP side of the gateway: cpp-httplib with a thread pool, the 64 KiB
// body limit answered as JSON 413, JSON bodies on GET (httplib 0.11 does
// not read them), request ids and one JSON log line per request.
//
// The front door, before httplib parses anything: the whole request head
// (request line and headers, at most 16 KiB: 431 beyond, the connection
// kept when the head ended within 64 KiB) must arrive within the head
// timeout (408 and close otherwise). Each connection holds a worker thread
// while it is served, so a connection waiting for its first or next request
// gives up its worker (is closed) when it has waited kLingerAfter and other
// accepted connections wait for a worker: idle connections cannot lock
// others out. Per client address (trusted proxies are not counted), the
// limits of connection_registry.h: many connections at work, few lingering
// ones (waiting, or reading a head, for kLingerAfter). A connection's place
// is given back as soon as the server decides to close it (its last
// request, or Connection: close), before the client can see the close and
// reconnect.
namespace calndro::gateway {

inline constexpr std::size_t kMaxBodyBytes = std::size_t{64} * 1024;
inline constexpr std::size_t kMaxHeadBytes = std::size_t{16} * 1024;
inline constexpr std::size_t kDefaultThreads = 64;
// Requests served on one keep-alive connection before it is closed
// (httplib's default of 5 made clients reconnect every fifth request).
inline constexpr std::size_t kKeepAliveMaxRequests = 1000;

// A client's X-Request-Id is kept when it is 1..128 characters of [A-Za-z0-9._-].
bool sane_request_id(std::string_view id);
std::string new_request_id();

struct HttpServerOptions {
  std::size_t threads = kDefaultThreads;          // CALNDRO_HTTP_THREADS
  std::chrono::milliseconds head_timeout{10000};  // CALNDRO_HTTP_HEAD_TIMEOUT_MS
  ConnectionLimits per_address;                   // connection_registry.h
  TrustedProxies trusted_proxies;                 // CALNDRO_TRUSTED_PROXIES: exempt from the limits
  std::size_t keep_alive_max_requests = kKeepAliveMaxRequests;
  SseHubOptions streams;  // the answers that outlive their handler (sse_hub.h)
};

class HttpServer {
 public:
  explicit HttpServer(const Router& router, std::size_t threads = kDefaultThreads);
  HttpServer(const Router& router, const HttpServerOptions& options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds; port 0 picks a free port. Returns the bound port, or -1.
  int bind(const std::string& host, int port);
  // Serves until stop(); returns false when it could not serve.
  bool listen_after_bind();
  // Stops serving and ends every stream.
  void stop();
  bool is_running() const;
  // Streams (GET /ID/changes/) being written now.
  std::size_t open_streams() const;

 private:
  class Server;
  std::unique_ptr<Server> server_;
  std::mutex stop_mutex_;
  bool stopped_ = false;
};

}  // namespace calndro::gateway
