#pragma once

#include <httplib.h>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "gateway/routes.h"

// The HTTP side of the gateway: cpp-httplib with a thread pool, the 64 KiB
// body limit answered as JSON 413, JSON bodies on GET (httplib 0.11 does
// not read them), request ids and one JSON log line per request.
namespace calndro::gateway {

inline constexpr std::size_t kMaxBodyBytes = 64 * 1024;
inline constexpr std::size_t kDefaultThreads = 64;
// Requests served on one keep-alive connection before it is closed
// (httplib's default of 5 made clients reconnect every fifth request).
inline constexpr std::size_t kKeepAliveMaxRequests = 1000;

// A client's X-Request-Id is kept when it is 1..128 characters of [A-Za-z0-9._-].
bool sane_request_id(std::string_view id);
std::string new_request_id();

class HttpServer {
 public:
  explicit HttpServer(const Router& router, std::size_t threads = kDefaultThreads);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds; port 0 picks a free port. Returns the bound port, or -1.
  int bind(const std::string& host, int port);
  // Serves until stop(); returns false when it could not serve.
  bool listen_after_bind();
  void stop();
  bool is_running() const;

 private:
  class Server;
  std::unique_ptr<Server> server_;
  std::mutex stop_mutex_;
  bool stopped_ = false;
};

}  // namespace calndro::gateway
