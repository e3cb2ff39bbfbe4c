#include "gateway/server/http_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <optional>

#include "common/base/log.h"
#include "common/crypto/crypto.h"
#include "gateway/api/http_response.h"
#include "gateway/api/json_mapping.h"
#include "gateway/server/front_door.h"
#include "gateway/server/request_body.h"
#include "gateway/server/requests_in_flight.h"
#include "gateway/server/socket_stream.h"
#include "gateway/server/sse_hub.h"
#include "gateway/server/worker_pool.h"

namespace calndro::gateway {

namespace {

// How long a newcomer over its address's cap may take to send a request
// before it is refused (a client sends it right after connecting).
constexpr int kReadyGraceMs = 50;
constexpr int kListenBacklog = 1024;

}  // namespace

bool sane_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) {
    return false;
  }
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

std::string new_request_id() {
  SystemRandom random;
  return random_hex(random, 16);
}

class HttpServer::Server final : public httplib::Server {
 public:
  explicit Server(const HttpServerOptions& options)
      : head_timeout_(options.head_timeout),
        trusted_proxies_(options.trusted_proxies),
        registry_(options.per_address),
        hub_(options.streams) {
    const size_t threads = options.threads;
    new_task_queue = [this, threads] {
      auto* pool = new WorkerPool(threads);
      pool_ = pool;
      return pool;
    };
  }

  // httplib 0.11 listens with a backlog of 5 (compiled in): a burst of
  // connections overflowed it, and each dropped SYN cost its client a 1 s
  // retransmission. Linux takes a second listen() as a new backlog.
  void widen_backlog() {
    if (svr_sock_ != INVALID_SOCKET) {
      ::listen(svr_sock_, kListenBacklog);
    }
  }

  // Before the body is read: fix the request id, so even a 413 carries it.
  void install_request_ids() {
    set_pre_routing_handler([](const httplib::Request& request, httplib::Response& response) {
      std::string id = request.get_header_value("X-Request-Id");
      response.set_header("X-Request-Id", sane_request_id(id) ? id : new_request_id());
      return httplib::Server::HandlerResponse::Unhandled;
    });
  }

  // Every path goes to the router, which knows 404/405/301.
  void install_router(const Router& router) {
    auto handler = [this, &router](const httplib::Request& request, httplib::Response& response) {
      const std::string request_id = response.get_header_value("X-Request-Id");
      const auto entry = in_flight(request);
      std::string body;
      if (auto error = read_unread_body(request, entry ? entry->stream : nullptr, response, body)) {
        send_error(response, *error);
      } else if (auto streaming = router.handle(request, body, request_id, response)) {
        take_over(entry, std::move(*streaming));
      }
      if (entry && response.get_header_value("Connection") == "close") {
        registry_.remove(entry->connection);  // free before the client sees the close
      }
    };
    Get(".*", handler);
    Post(".*", handler);
    Put(".*", handler);
    Patch(".*", handler);
    Delete(".*", handler);
    Options(".*", handler);
  }

  // Errors httplib answers itself (413, 400 on a bad request line, ...) get
  // a JSON body too; responses that already have one are left alone.
  void install_error_answers() {
    set_error_handler(HandlerWithResponse([](const httplib::Request&, httplib::Response& response) {
      if (!response.body.empty()) {
        return HandlerResponse::Unhandled;
      }
      send_json(response, response.status, dump(nlohmann::json{{"detail", error_detail(response.status)}}));
      return HandlerResponse::Handled;
    }));
    set_exception_handler(
        [](const httplib::Request&, httplib::Response& response, const std::exception_ptr&) {
          response.headers.erase("Link");
          send_json(response, 500, R"({"detail":"Internal server error."})");
        });
  }

  // One line per request; the path without its query (it may hold a token).
  // A request httplib refused before routing it has no start to measure from.
  void install_logger() {
    set_logger([this](const httplib::Request& request, const httplib::Response& response) {
      nlohmann::json fields{{"request_id", response.get_header_value("X-Request-Id")},
                            {"method", request.method},
                            {"path", request.path},
                            {"status", response.status}};
      if (const auto entry = in_flight(request)) {
        fields["duration_ms"] = milliseconds_since(entry->started);
      }
      log::info("request", fields);
    });
  }

  // The one override of httplib's internals, a private virtual (see
  // gateway/README.md "Why one httplib override"): the gateway owns the
  // connection's stream (see SocketStream) and its front door, then lets
  // httplib parse and route each request (process_request). Same
  // keep-alive policy as httplib's.
  bool process_and_close_socket(socket_t sock) override {
    // A response goes out in more than one write (head, then body): with
    // Nagle on, the second write waits for the client's delayed ACK, which
    // put a flat ~40 ms on every keep-alive request (docs/PERFORMANCE.md).
    const int one = 1;
    ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    SocketStream stream(sock, static_cast<int>(read_timeout_sec_ * 1000 + read_timeout_usec_ / 1000),
                        static_cast<int>(write_timeout_sec_ * 1000 + write_timeout_usec_ / 1000));
    std::string peer;
    int peer_port = 0;
    stream.get_remote_ip_and_port(peer, peer_port);
    peer = canonical_ip(peer).value_or(peer);
    Connection connection(peer);
    connection.enter(Connection::Phase::kWaiting, WorkerPool::job_queued_at());
    bool ok = false;
    // Behind an Ingress every connection comes from it: proxies are not counted.
    if (trusted_proxies_.contains(peer) || admit(stream, connection)) {
      ok = serve_requests(stream, connection);
      registry_.remove(&connection);
    }
    if (!stream.taken_over()) {
      close_socket(sock);
    }
    return ok;
  }

  // A streaming answer (live_stream.h): from now on httplib's writes go
  // nowhere; once httplib is done with the request, the connection goes
  // to the stream hub (serve_complete_head).
  static void take_over(const std::optional<RequestsInFlight::Entry>& entry, StreamingAnswer streaming) {
    if (!entry) {
      streaming.source->cancel();  // cannot happen: a routed request is in flight
      return;
    }
    entry->stream->take_over();
    *entry->streaming = std::move(streaming);
  }

  SseHub& hub() { return hub_; }

  // The request being served on `request`'s connection; nullopt for a
  // request httplib answered before routing it (a malformed request line).
  std::optional<RequestsInFlight::Entry> in_flight(const httplib::Request& request) const {
    return in_flight_.find(request);
  }

 private:
  static void close_socket(socket_t sock) {
    ::shutdown(sock, SHUT_WR);
    // Unread input would turn the close into a reset that can destroy the
    // answer just written: drop what has arrived.
    char sink[4096];
    for (int i = 0; i < 16 && ::recv(sock, sink, sizeof(sink), MSG_DONTWAIT) > 0; ++i) {
    }
    ::close(sock);
  }

  // Counts the connection for its address, or answers 429. A newcomer that
  // sends its request at once beats a connection that sends nothing.
  bool admit(SocketStream& stream, Connection& connection) {
    using Arrival = ConnectionRegistry::Arrival;
    if (registry_.admit(&connection, Arrival::kSilent, Clock::now()) ||
        (wait_for(stream.socket(), POLLIN, kReadyGraceMs) &&
         registry_.admit(&connection, Arrival::kRequestSent, Clock::now()))) {
      return true;
    }
    const auto started = Clock::now();
    const std::string id = new_request_id();
    write_front_door_response(stream, 429, "Too many connections from your address.", AfterAnswer::kClose, id,
                              "Retry-After: 1\r\n");
    log_front_door({}, 429, id, "connections per address", started);
    return false;
  }

  // The connection's requests, up to the keep-alive maximum. False when
  // httplib failed to serve one.
  bool serve_requests(SocketStream& stream, Connection& connection) {
    for (size_t remaining = keep_alive_max_count_; remaining > 0; --remaining) {
      if (!wait_for_next_request(stream, connection)) {
        return true;
      }
      const auto started = Clock::now();
      connection.enter(Connection::Phase::kReadingHead, started);
      const Head head = read_request_head(stream, connection, started);
      if (head.status == Head::Status::kClosed) {
        return true;
      }
      bool ok = true;
      bool keep = false;
      if (head.status == Head::Status::kComplete) {
        connection.enter(Connection::Phase::kServing, Clock::now());
        keep = serve_complete_head(stream, connection, head, started, remaining == 1, ok);
      } else {
        keep = reject_head(stream, connection, head, started);
      }
      if (!keep) {
        return ok;
      }
      connection.enter(Connection::Phase::kWaiting, Clock::now());
    }
    return true;
  }

  // The head, read within the head timeout. One still arriving after
  // kLingerAfter lingers: over its address's limit it is answered 429 and
  // the connection ends (reported as kClosed).
  Head read_request_head(SocketStream& stream, Connection& connection, Clock::time_point started) {
    const auto deadline = started + head_timeout_;
    const Head head = read_head(stream, std::min(deadline, started + kLingerAfter));
    if (head.status != Head::Status::kTimeout || Clock::now() >= deadline) {
      return head;
    }
    if (registry_.may_linger(&connection, Clock::now())) {
      return read_head(stream, deadline);
    }
    const std::string text(stream.peek().substr(0, 512));
    const std::string id = new_request_id();
    write_front_door_response(stream, 429, "Too many slow or idle connections from your address.",
                              AfterAnswer::kClose, id, "Retry-After: 1\r\n");
    log_front_door(text, 429, id, "lingering connections per address", started);
    return {Head::Status::kClosed, 0};
  }

  // A whole head: 431 for an over-long header line, else httplib's request.
  // True when the connection can serve the next request.
  bool serve_complete_head(SocketStream& stream, Connection& connection, const Head& head,
                           Clock::time_point started, bool last, bool& ok) {
    const std::string_view head_text = stream.peek().substr(0, head.size);
    if (longest_header_line(head_text) > kMaxHeaderLineBytes) {
      return refuse_complete_head(stream, connection, head, 431,
                                  "A request header is too large (at most 8 KiB a line).",
                                  "header line too long", started);
    }
    if (const std::string_view empty = empty_header_that_matters(head_text); !empty.empty()) {
      return refuse_complete_head(stream, connection, head, 400, std::string(empty) + ": the value is empty.",
                                  "empty header", started);
    }
    const uint64_t head_end = stream.consumed() + head.size;
    bool connection_closed = false;
    const httplib::Request* bound = nullptr;
    std::optional<StreamingAnswer> streaming;
    ok = process_request(stream, last, connection_closed, [&](httplib::Request& request) {
      bound = &request;
      in_flight_.bind(bound, {&stream, started, &connection, &streaming});
      // Its answer ends the connection (the last one it may serve, or the
      // client asked): its place is free before the client sees the close
      // and reconnects.
      if (last || connection_closed) {
        registry_.remove(&connection);
      }
    });
    if (bound != nullptr) {
      in_flight_.unbind(bound);
    }
    if (streaming) {
      hand_to_hub(stream, connection, *streaming);
      return false;
    }
    // httplib stops reading a head it rejects (a bad request line): what
    // follows cannot be framed, so the connection ends after its answer.
    return ok && !connection_closed && stream.consumed() >= head_end;
  }

  // The connection, no longer this worker's, to the stream hub; its place
  // among its address's connections is free (it holds no worker now).
  void hand_to_hub(SocketStream& stream, Connection& connection, StreamingAnswer& streaming) {
    registry_.remove(&connection);
    if (!hub_.adopt(stream.socket(), streaming)) {
      streaming.source->cancel();
      close_socket(stream.socket());
    }
  }

  // Answers a whole head the front door refuses, dropping its body. True
  // when the connection can serve the next request.
  bool refuse_complete_head(SocketStream& stream, Connection& connection, const Head& head, int status,
                            const std::string& detail, std::string_view reason, Clock::time_point started) {
    const std::string text(stream.peek().substr(0, head.size));
    stream.consume(head.size);
    const bool keep = discard_body(stream, text);
    if (!keep) {
      registry_.remove(&connection);
    }
    const std::string id = new_request_id();
    write_front_door_response(stream, status, detail, keep ? AfterAnswer::kKeepAlive : AfterAnswer::kClose,
                              id);
    log_front_door(text, status, id, reason, started);
    return keep;
  }

  // A head that is too large (431) or late (408). True when the
  // connection can serve the next request.
  bool reject_head(SocketStream& stream, Connection& connection, const Head& head,
                   Clock::time_point started) {
    const std::string id = new_request_id();
    if (head.status == Head::Status::kTimeout) {
      registry_.remove(&connection);
      const std::string text(stream.peek().substr(0, 512));
      write_front_door_response(stream, 408, "The request head did not arrive in time.", AfterAnswer::kClose,
                                id);
      log_front_door(text, 408, id, "head timeout", started);
      return false;
    }
    std::string text;
    const bool ended = discard_head(stream, started + head_timeout_, text);
    const bool keep = ended && discard_body(stream, text);
    if (!keep) {
      registry_.remove(&connection);
    }
    write_front_door_response(stream, 431, "Request headers too large (at most 16 KiB).",
                              keep ? AfterAnswer::kKeepAlive : AfterAnswer::kClose, id);
    log_front_door(text, 431, id, "head too large", started);
    return keep;
  }

  // Waits for the next request in short slices, so that stop() is not held
  // up by idle connections, an idle connection makes way for others, and
  // one that begins to linger over its address's limit closes (see
  // http_server.h).
  bool wait_for_next_request(SocketStream& stream, Connection& connection) {
    if (stream.buffered() > 0) {
      return true;
    }
    const auto deadline = Clock::now() + std::chrono::seconds(keep_alive_timeout_sec_);
    bool lingering = false;
    while (svr_sock_ != INVALID_SOCKET) {
      if (wait_for(stream.socket(), POLLIN, 25)) {
        return true;
      }
      const auto now = Clock::now();
      if (now >= deadline || connection.yield) {
        return false;
      }
      if (!lingering && connection.lingering(now)) {
        lingering = true;
        if (!registry_.may_linger(&connection, now)) {
          return false;
        }
      }
      WorkerPool* pool = pool_;
      if (pool != nullptr && pool->waiting() > 0 && connection.waiting_for_at_least(now, kLingerAfter) &&
          pool->claim_yield()) {
        return false;
      }
    }
    return false;
  }

  std::chrono::milliseconds head_timeout_;
  TrustedProxies trusted_proxies_;
  ConnectionRegistry registry_;
  RequestsInFlight in_flight_;
  std::atomic<WorkerPool*> pool_{nullptr};
  SseHub hub_;
};

namespace {

HttpServerOptions with_threads(std::size_t threads) {
  HttpServerOptions options;
  options.threads = threads;
  return options;
}

}  // namespace

HttpServer::HttpServer(const Router& router, std::size_t threads)
    : HttpServer(router, with_threads(threads)) {}

HttpServer::HttpServer(const Router& router, const HttpServerOptions& options)
    : server_(std::make_unique<Server>(options)) {
  auto& server = *server_;
  server.set_payload_max_length(kMaxBodyBytes);
  server.set_read_timeout(10, 0);
  server.set_write_timeout(10, 0);
  server.set_keep_alive_max_count(options.keep_alive_max_requests);

  server.install_request_ids();
  server.install_router(router);
  server.install_error_answers();
  server.install_logger();
}

HttpServer::~HttpServer() {
  stop();
}

int HttpServer::bind(const std::string& host, int port) {
  const int bound =
      port == 0 ? server_->bind_to_any_port(host) : (server_->bind_to_port(host, port) ? port : -1);
  if (bound > 0) {
    server_->widen_backlog();
  }
  return bound;
}

bool HttpServer::listen_after_bind() {
  return server_->listen_after_bind();
}

void HttpServer::stop() {
  // httplib's stop() must run once, and only on a running server.
  std::lock_guard lock(stop_mutex_);
  if (!stopped_ && server_->is_running()) {
    server_->stop();
    stopped_ = true;
  }
  // Streams hold no worker: httplib's stop does not end them.
  server_->hub().stop();
}

std::size_t HttpServer::open_streams() const {
  return server_->hub().open_streams();
}

bool HttpServer::is_running() const {
  return server_->is_running();
}

}  // namespace calndro::gateway
