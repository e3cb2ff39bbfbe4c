#include "gateway/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <chrono>
#include <cstring>

#include "common/crypto.h"
#include "common/log.h"
#include "gateway/json_mapping.h"

namespace calndro::gateway {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kReadBufferSize = 4096;
// A GET body over the limit is read and dropped up to this size so the
// connection stays usable; beyond it the connection is closed.
constexpr std::size_t kMaxDiscardBytes = 8 * 1024 * 1024;

bool wait_for(int fd, short events, int timeout_ms) {
  pollfd pfd{fd, events, 0};
  while (true) {
    int n = ::poll(&pfd, 1, timeout_ms);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    return n > 0;
  }
}

void address_of(int fd, bool peer, std::string& ip, int& port) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  int rc = peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length)
                : ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  if (rc != 0) {
    return;
  }
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&address);
    ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
    port = ntohs(in->sin_port);
  } else if (address.ss_family == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&address);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
    port = ntohs(in6->sin6_port);
  }
  ip = text;
}

// A buffered socket stream of our own: httplib 0.11 skips the body of a
// GET, so the handler must be able to read it from the same buffer the
// request head came through.
class SocketStream final : public httplib::Stream {
 public:
  SocketStream(int fd, int read_timeout_ms, int write_timeout_ms)
      : fd_(fd), read_timeout_ms_(read_timeout_ms), write_timeout_ms_(write_timeout_ms) {}

  bool is_readable() const override { return buffered() > 0 || wait_for(fd_, POLLIN, read_timeout_ms_); }
  bool is_writable() const override { return wait_for(fd_, POLLOUT, write_timeout_ms_); }

  ssize_t read(char* out, size_t size) override {
    if (size == 0) {
      return 0;
    }
    if (buffered() == 0) {
      if (!wait_for(fd_, POLLIN, read_timeout_ms_)) {
        return -1;
      }
      ssize_t n;
      do {
        n = ::recv(fd_, buffer_, sizeof(buffer_), 0);
      } while (n < 0 && errno == EINTR);
      if (n <= 0) {
        return n;
      }
      begin_ = 0;
      end_ = static_cast<size_t>(n);
    }
    size_t count = std::min(size, buffered());
    std::memcpy(out, buffer_ + begin_, count);
    begin_ += count;
    return static_cast<ssize_t>(count);
  }

  ssize_t write(const char* data, size_t size) override {
    if (!wait_for(fd_, POLLOUT, write_timeout_ms_)) {
      return -1;
    }
    ssize_t n;
    do {
      n = ::send(fd_, data, size, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override { address_of(fd_, true, ip, port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { address_of(fd_, false, ip, port); }
  socket_t socket() const override { return fd_; }

  size_t buffered() const { return end_ - begin_; }

  // Reads exactly `size` bytes into `out` (appending); false on EOF/timeout.
  bool read_exactly(size_t size, std::string* out) {
    char chunk[kReadBufferSize];
    while (size > 0) {
      ssize_t n = read(chunk, std::min(size, sizeof(chunk)));
      if (n <= 0) {
        return false;
      }
      if (out != nullptr) {
        out->append(chunk, static_cast<size_t>(n));
      }
      size -= static_cast<size_t>(n);
    }
    return true;
  }

 private:
  int fd_;
  int read_timeout_ms_;
  int write_timeout_ms_;
  char buffer_[kReadBufferSize];
  size_t begin_ = 0;
  size_t end_ = 0;
};

// Per worker thread: the connection being served and when its current
// request started.
thread_local SocketStream* current_stream = nullptr;
thread_local Clock::time_point request_started;

bool httplib_reads_body(const std::string& method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

// The body as sent, including the GET body httplib left on the socket.
// Returns an HTTP status (0: fine) and sets Connection: close when the
// connection cannot be reused.
int read_unread_body(const httplib::Request& request, httplib::Response& response, std::string& body) {
  if (httplib_reads_body(request.method)) {
    body = request.body;
    return 0;
  }
  if (request.get_header_value("Transfer-Encoding").find("chunked") != std::string::npos) {
    response.set_header("Connection", "close");
    return 411;
  }
  const std::string length_text = request.get_header_value("Content-Length");
  if (length_text.empty()) {
    return 0;
  }
  const int64_t length = length_text == "0" ? 0 : parse_id(length_text);
  if (length == 0) {
    if (length_text != "0") {
      response.set_header("Connection", "close");
      return 400;
    }
    return 0;
  }
  if (current_stream == nullptr) {
    response.set_header("Connection", "close");
    return 400;
  }
  const auto size = static_cast<size_t>(length);
  if (size > kMaxBodyBytes) {
    if (size > kMaxDiscardBytes || !current_stream->read_exactly(size, nullptr)) {
      response.set_header("Connection", "close");
    }
    return 413;
  }
  if (!current_stream->read_exactly(size, &body)) {
    response.set_header("Connection", "close");
    return 400;
  }
  return 0;
}

const char* reason_for(int status) {
  switch (status) {
    case 400:
      return "Bad request.";
    case 404:
      return "Not found.";
    case 405:
      return "Method not allowed.";
    case 411:
      return "A Content-Length is required for a body on this method.";
    case 413:
      return "Request body too large (at most 64 KiB).";
    case 414:
      return "Request URI too long.";
    case 431:
      return "Request headers too large.";
    default:
      return status >= 500 ? "Internal server error." : "Request rejected.";
  }
}

}  // namespace

bool sane_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) {
    return false;
  }
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
}

std::string new_request_id() {
  SystemRandom random;
  return random_hex(random, 16);
}

class HttpServer::Server final : public httplib::Server {
 public:
  // Private virtual in httplib::Server: overriding it lets the gateway own
  // the connection's stream (see SocketStream). Same keep-alive policy.
  bool process_and_close_socket(socket_t sock) override {
    // A response goes out in more than one write (head, then body): with
    // Nagle on, the second write waits for the client's delayed ACK, which
    // put a flat ~40 ms on every keep-alive request (docs/PERFORMANCE.md).
    const int one = 1;
    ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    SocketStream stream(sock, static_cast<int>(read_timeout_sec_ * 1000 + read_timeout_usec_ / 1000),
                        static_cast<int>(write_timeout_sec_ * 1000 + write_timeout_usec_ / 1000));
    current_stream = &stream;
    bool ok = false;
    for (size_t remaining = keep_alive_max_count_; remaining > 0; --remaining) {
      if (!wait_for_next_request(stream)) {
        break;
      }
      request_started = Clock::now();
      bool connection_closed = false;
      ok = process_request(stream, remaining == 1, connection_closed, nullptr);
      if (!ok || connection_closed) {
        break;
      }
    }
    current_stream = nullptr;
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return ok;
  }

 private:
  // Waits for the next request in short slices so stop() is not held up by
  // idle keep-alive connections.
  bool wait_for_next_request(SocketStream& stream) {
    if (stream.buffered() > 0) {
      return true;
    }
    const auto deadline = Clock::now() + std::chrono::seconds(keep_alive_timeout_sec_);
    while (svr_sock_ != INVALID_SOCKET) {
      if (wait_for(stream.socket(), POLLIN, 100)) {
        return true;
      }
      if (Clock::now() >= deadline) {
        return false;
      }
    }
    return false;
  }
};

HttpServer::HttpServer(const Router& router, std::size_t threads) : server_(std::make_unique<Server>()) {
  auto& server = *server_;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_payload_max_length(kMaxBodyBytes);
  server.set_read_timeout(10, 0);
  server.set_write_timeout(10, 0);
  server.set_keep_alive_max_count(kKeepAliveMaxRequests);

  // Before the body is read: fix the request id, so even a 413 carries it.
  server.set_pre_routing_handler([](const httplib::Request& request, httplib::Response& response) {
    std::string id = request.get_header_value("X-Request-Id");
    response.set_header("X-Request-Id", sane_request_id(id) ? id : new_request_id());
    return httplib::Server::HandlerResponse::Unhandled;
  });

  auto handler = [&router](const httplib::Request& request, httplib::Response& response) {
    const std::string request_id = response.get_header_value("X-Request-Id");
    std::string body;
    if (int status = read_unread_body(request, response, body); status != 0) {
      send_json(response, status, dump(nlohmann::json{{"detail", reason_for(status)}}));
      return;
    }
    router.handle(request, body, request_id, response);
  };
  // Every path goes to the router, which knows 404/405/301.
  server.Get(".*", handler);
  server.Post(".*", handler);
  server.Put(".*", handler);
  server.Patch(".*", handler);
  server.Delete(".*", handler);
  server.Options(".*", handler);

  // Errors httplib answers itself (413, 400 on a bad request line, ...) get
  // a JSON body too; responses that already have one are left alone.
  server.set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& response) {
        if (!response.body.empty()) {
          return httplib::Server::HandlerResponse::Unhandled;
        }
        send_json(response, response.status, dump(nlohmann::json{{"detail", reason_for(response.status)}}));
        return httplib::Server::HandlerResponse::Handled;
      }));
  server.set_exception_handler([](const httplib::Request&, httplib::Response& response, std::exception_ptr) {
    response.headers.erase("Link");
    send_json(response, 500, R"({"detail":"Internal server error."})");
  });

  // One line per request; the path without its query (it may hold a token).
  server.set_logger([](const httplib::Request& request, const httplib::Response& response) {
    const auto elapsed = std::chrono::duration<double, std::milli>(Clock::now() - request_started).count();
    std::string id = response.get_header_value("X-Request-Id");
    log::info("request", {{"request_id", id},
                          {"method", request.method},
                          {"path", request.path},
                          {"status", response.status},
                          {"duration_ms", std::round(elapsed * 1000.0) / 1000.0}});
  });
}

HttpServer::~HttpServer() { stop(); }

int HttpServer::bind(const std::string& host, int port) {
  if (port == 0) {
    return server_->bind_to_any_port(host);
  }
  return server_->bind_to_port(host, port) ? port : -1;
}

bool HttpServer::listen_after_bind() { return server_->listen_after_bind(); }

void HttpServer::stop() {
  // httplib's stop() must run once, and only on a running server.
  std::lock_guard lock(stop_mutex_);
  if (!stopped_ && server_->is_running()) {
    server_->stop();
    stopped_ = true;
  }
}

bool HttpServer::is_running() const { return server_->is_running(); }

}  // namespace calndro::gateway
