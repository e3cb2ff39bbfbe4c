#include "gateway/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/crypto.h"
#include "common/log.h"
#include "common/text.h"
#include "gateway/http_response.h"
#include "gateway/json_mapping.h"
#include "gateway/request_text.h"

namespace calndro::gateway {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kReadBufferSize = 4096;
// How long a newcomer over its address's cap may take to send a request
// before it is refused (a client sends it right after connecting).
constexpr int kReadyGraceMs = 50;
constexpr int kListenBacklog = 1024;
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
// request head came through; and the front door reads the whole head into
// the buffer (read_head) before httplib parses it from there.
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
      ssize_t n = fill(read_timeout_ms_);
      if (n <= 0) {
        return n;
      }
    }
    size_t count = std::min(size, buffered());
    std::memcpy(out, buffer_.data() + begin_, count);
    consume(count);
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

  size_t buffered() const { return buffer_.size() - begin_; }
  std::string_view peek() const { return std::string_view(buffer_).substr(begin_); }
  // Bytes taken from the stream so far (by httplib or the gateway).
  uint64_t consumed() const { return consumed_; }
  void consume(size_t count) {
    count = std::min(count, buffered());
    begin_ += count;
    consumed_ += count;
    if (begin_ == buffer_.size()) {
      buffer_.clear();
      begin_ = 0;
    }
  }

  // Appends what the socket has to the buffer, waiting up to `timeout_ms`.
  // Returns the bytes added, 0 at end of stream or on an error, -1 when
  // nothing came in time.
  ssize_t fill(int timeout_ms) {
    if (!wait_for(fd_, POLLIN, timeout_ms)) {
      return -1;
    }
    if (begin_ > 0) {
      buffer_.erase(0, begin_);
      begin_ = 0;
    }
    const size_t old_size = buffer_.size();
    buffer_.resize(old_size + kReadBufferSize);
    ssize_t n;
    do {
      n = ::recv(fd_, buffer_.data() + old_size, kReadBufferSize, 0);
    } while (n < 0 && errno == EINTR);
    buffer_.resize(old_size + static_cast<size_t>(std::max<ssize_t>(n, 0)));
    return std::max<ssize_t>(n, 0);
  }

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
  std::string buffer_;
  size_t begin_ = 0;
  uint64_t consumed_ = 0;
};

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

// The requests being served, each with the connection it came on, keyed by
// the Request httplib hands to the handler and the logger: bound through
// process_request's setup_request, called for the request it is about to
// route.
class RequestsInFlight {
 public:
  struct Entry {
    SocketStream* stream = nullptr;
    Clock::time_point started;
  };

  void bind(const httplib::Request* request, Entry entry) {
    std::lock_guard lock(mutex_);
    entries_[request] = entry;
  }
  void unbind(const httplib::Request* request) {
    std::lock_guard lock(mutex_);
    entries_.erase(request);
  }
  std::optional<Entry> find(const httplib::Request& request) const {
    std::lock_guard lock(mutex_);
    const auto it = entries_.find(&request);
    return it == entries_.end() ? std::nullopt : std::optional<Entry>(it->second);
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<const httplib::Request*, Entry> entries_;
};

bool httplib_reads_body(const std::string& method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

HttpError body_error(httplib::Response& response, int status, bool close) {
  if (close) {
    response.set_header("Connection", "close");
  }
  return detail_error(status, reason_for(status));
}

// The body as sent, including the GET body httplib left on `stream`. The
// error to answer otherwise, with Connection: close when the connection
// cannot be reused.
std::optional<HttpError> read_unread_body(const httplib::Request& request, SocketStream* stream,
                                          httplib::Response& response, std::string& body) {
  if (httplib_reads_body(request.method)) {
    body = request.body;
    return std::nullopt;
  }
  if (request.get_header_value("Transfer-Encoding").find("chunked") != std::string::npos) {
    return body_error(response, 411, true);
  }
  const std::string length_text = request.get_header_value("Content-Length");
  if (length_text.empty() || length_text == "0") {
    return std::nullopt;
  }
  const int64_t length = parse_id(length_text);
  if (length == 0 || stream == nullptr) {
    return body_error(response, 400, true);
  }
  const auto size = static_cast<size_t>(length);
  if (size > kMaxBodyBytes) {
    return body_error(response, 413, size > kMaxDiscardBytes || !stream->read_exactly(size, nullptr));
  }
  if (!stream->read_exactly(size, &body)) {
    return body_error(response, 400, true);
  }
  return std::nullopt;
}

// A request head as the front door found it in the stream's buffer.
struct Head {
  enum class Status { kComplete, kTooLarge, kTimeout, kClosed };
  Status status = Status::kClosed;
  size_t size = 0;  // kComplete: bytes up to and including the blank line
};

constexpr std::string_view kHeadEnd = "\r\n\r\n";
// A head over kMaxHeadBytes is still read (and dropped) up to this size,
// so that the 431 can keep the connection.
constexpr size_t kMaxDiscardHeadBytes = 64 * 1024;
// httplib 0.11's compiled-in CPPHTTPLIB_HEADER_MAX_LENGTH: a longer header
// line makes it stop reading the head half way (a plain 400).
constexpr size_t kMaxHeaderLineBytes = 8192;

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<int64_t>(left, 0, 100));
}

// Reads until the buffer holds a whole head of at most kMaxHeadBytes, the
// deadline passes, or the head is known to be too large.
// A request under way when the server stops still gets its deadline.
Head read_head(SocketStream& stream, Clock::time_point deadline) {
  size_t searched = 0;
  while (true) {
    const std::string_view data = stream.peek();
    const std::string_view window = data.substr(0, kMaxHeadBytes);
    if (const auto end = window.find(kHeadEnd, searched > 3 ? searched - 3 : 0);
        end != std::string_view::npos) {
      return {Head::Status::kComplete, end + kHeadEnd.size()};
    }
    if (data.size() >= kMaxHeadBytes) {
      return {Head::Status::kTooLarge, 0};
    }
    searched = data.size();
    if (Clock::now() >= deadline) {
      return {Head::Status::kTimeout, 0};
    }
    if (stream.fill(remaining_ms(deadline)) == 0) {
      return {Head::Status::kClosed, 0};
    }
  }
}

// Takes an over-long head off the stream (up to kMaxDiscardHeadBytes),
// keeping it in `head` to learn about its body. False when its end did not
// come in time or within the size.
bool discard_head(SocketStream& stream, Clock::time_point deadline, std::string& head) {
  while (head.size() < kMaxDiscardHeadBytes) {
    const std::string_view data = stream.peek();
    if (!data.empty()) {
      const size_t before = head.size();
      const size_t take = std::min(data.size(), kMaxDiscardHeadBytes - before);
      head.append(data.substr(0, take));
      const size_t from = before > 3 ? before - 3 : 0;
      if (const auto end = head.find(kHeadEnd, from); end != std::string::npos) {
        const size_t head_size = end + kHeadEnd.size();
        stream.consume(head_size - before);
        head.resize(head_size);
        return true;
      }
      stream.consume(take);
      continue;
    }
    if (Clock::now() >= deadline || stream.fill(remaining_ms(deadline)) == 0) {
      return false;
    }
  }
  return false;
}

// The value of header `name` (lower case) in a raw head; nullopt when absent.
std::optional<std::string> raw_header(std::string_view head, std::string_view name) {
  size_t at = head.find("\r\n");
  while (at != std::string_view::npos && at + 2 < head.size()) {
    const size_t start = at + 2;
    const size_t end = head.find("\r\n", start);
    const std::string_view line =
        head.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    const auto colon = line.find(':');
    if (colon != std::string_view::npos && to_lower_ascii(line.substr(0, colon)) == name) {
      return std::string(trim_blanks(line.substr(colon + 1)));
    }
    at = end;
  }
  return std::nullopt;
}

// Drops the body a rejected head announced, so the connection can serve
// the next request. False when it cannot be framed or is too large.
bool discard_body(SocketStream& stream, std::string_view head) {
  if (raw_header(head, "transfer-encoding")) {
    return false;
  }
  const auto length_text = raw_header(head, "content-length");
  if (!length_text || *length_text == "0") {
    return true;
  }
  const int64_t length = parse_id(*length_text);
  if (length <= 0 || static_cast<size_t>(length) > kMaxDiscardBytes) {
    return false;
  }
  return stream.read_exactly(static_cast<size_t>(length), nullptr);
}

// "METHOD /path" of a raw head for the log line (no query: it may hold a
// token), printable and bounded.
void request_line_parts(std::string_view head, std::string& method, std::string& path) {
  const std::string_view line = head.substr(0, std::min(head.find("\r\n"), size_t{512}));
  const auto space = line.find(' ');
  method = std::string(line.substr(0, std::min(space, size_t{16})));
  if (space != std::string_view::npos) {
    std::string_view target = line.substr(space + 1);
    target = target.substr(0, target.find_first_of(" ?"));
    path = std::string(target.substr(0, 200));
  }
  for (std::string* text : {&method, &path}) {
    for (char& c : *text) {
      if (c < 0x21 || c > 0x7e) {
        c = '?';
      }
    }
  }
}

const char* status_text(int status) {
  switch (status) {
    case 408:
      return "Request Timeout";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    default:
      return "Error";
  }
}

// An answer the front door writes itself (httplib never saw the request).
void write_front_door_response(SocketStream& stream, int status, std::string_view detail, bool close,
                               const std::string& request_id, std::string_view extra_headers = {}) {
  const std::string body = dump(nlohmann::json{{"detail", detail}});
  std::string response =
      "HTTP/1.1 " + std::to_string(status) + " " + status_text(status) +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nX-Request-Id: " + request_id + "\r\n" + std::string(extra_headers) +
      (close ? "Connection: close\r\n" : "") + "\r\n" + body;
  size_t sent = 0;
  while (sent < response.size()) {
    const ssize_t n = stream.write(response.data() + sent, response.size() - sent);
    if (n <= 0) {
      return;
    }
    sent += static_cast<size_t>(n);
  }
}

double milliseconds_since(Clock::time_point started) {
  return std::round(std::chrono::duration<double, std::milli>(Clock::now() - started).count() * 1000.0) /
         1000.0;
}

void log_front_door(std::string_view head, int status, const std::string& request_id, std::string_view reason,
                    Clock::time_point started) {
  std::string method, path;
  request_line_parts(head, method, path);
  log::info("request", {{"request_id", request_id},
                        {"method", method},
                        {"path", path},
                        {"status", status},
                        {"rejected", std::string(reason)},
                        {"duration_ms", milliseconds_since(started)}});
}

// The length of the longest header line (not the request line) of a head,
// with its CRLF.
size_t longest_header_line(std::string_view head) {
  size_t longest = 0;
  size_t start = head.find("\r\n");
  while (start != std::string_view::npos) {
    start += 2;
    const size_t end = head.find("\r\n", start);
    if (end == std::string_view::npos) {
      break;
    }
    longest = std::max(longest, end + 2 - start);
    start = end;
  }
  return longest;
}

// The task queue httplib runs connections on: httplib's ThreadPool, plus
// how many accepted connections wait for a worker and since when the one
// being run has waited (so an idle connection can make way).
class WorkerPool final : public httplib::TaskQueue {
 public:
  explicit WorkerPool(size_t threads) {
    for (size_t i = 0; i < threads; ++i) {
      threads_.emplace_back([this] { work(); });
    }
  }
  ~WorkerPool() override = default;

  void enqueue(std::function<void()> fn) override {
    {
      std::lock_guard lock(mutex_);
      jobs_.push_back({std::move(fn), Clock::now()});
      waiting_ = jobs_.size();
    }
    cond_.notify_one();
  }

  void shutdown() override {
    {
      std::lock_guard lock(mutex_);
      shutdown_ = true;
    }
    cond_.notify_all();
    for (auto& thread : threads_) {
      thread.join();
    }
  }

  size_t waiting() const { return waiting_.load(std::memory_order_relaxed); }

  // An idle connection's worker asks to make way: granted while fewer
  // workers are already making way than connections wait, so one waiting
  // connection closes one idle connection, not every one.
  bool claim_yield() {
    size_t yielding = yielding_.load();
    while (yielding < waiting()) {
      if (yielding_.compare_exchange_weak(yielding, yielding + 1)) {
        claimed = true;
        return true;
      }
    }
    return false;
  }
  // When the job being run on this thread was queued (its connection accepted).
  static Clock::time_point job_queued_at() { return queued_at; }

 private:
  struct Job {
    std::function<void()> fn;
    Clock::time_point queued;
  };

  void work() {
    while (true) {
      Job job;
      {
        std::unique_lock lock(mutex_);
        cond_.wait(lock, [this] { return !jobs_.empty() || shutdown_; });
        if (jobs_.empty()) {
          return;
        }
        job = std::move(jobs_.front());
        jobs_.pop_front();
        waiting_ = jobs_.size();
      }
      if (claimed) {
        --yielding_;
        claimed = false;
      }
      queued_at = job.queued;
      job.fn();
    }
  }

  static thread_local Clock::time_point queued_at;
  static thread_local bool claimed;
  std::vector<std::thread> threads_;
  std::deque<Job> jobs_;
  std::atomic<size_t> waiting_{0};
  std::atomic<size_t> yielding_{0};
  bool shutdown_ = false;
  std::mutex mutex_;
  std::condition_variable cond_;
};

thread_local Clock::time_point WorkerPool::queued_at;
thread_local bool WorkerPool::claimed = false;

// One connection being served, as the per-address registry sees it.
struct Connection {
  std::atomic<bool> idle{true};
  std::atomic<int64_t> idle_since{0};  // Clock ticks
  std::atomic<bool> yield{false};      // asked to close when idle

  void set_idle(Clock::time_point since) {
    idle_since = since.time_since_epoch().count();
    idle = true;
  }
  void set_busy() { idle = false; }
  Clock::duration idle_for(Clock::time_point now) const {
    return now.time_since_epoch() - Clock::duration(idle_since.load());
  }
};

// Connections served per client address (the TCP peer).
class ConnectionRegistry {
 public:
  explicit ConnectionRegistry(size_t cap) : cap_(cap) {}

  // Counts `connection` for `address`. At the cap, the address's connection
  // idle longest is asked to close in its favour: any idle one when the
  // newcomer has sent its request (`ready`), else one idle for at least
  // kIdleYieldAfter. False when none can make way.
  bool admit(const std::string& address, Connection* connection, bool ready) {
    std::lock_guard lock(mutex_);
    auto& list = by_address_[address];
    if (list.size() >= cap_) {
      const auto now = Clock::now();
      Connection* oldest = nullptr;
      for (Connection* other : list) {
        if (other->idle && !other->yield && (ready || other->idle_for(now) >= kIdleYieldAfter) &&
            (oldest == nullptr || other->idle_since < oldest->idle_since)) {
          oldest = other;
        }
      }
      if (oldest == nullptr) {
        if (list.empty()) {
          by_address_.erase(address);
        }
        return false;
      }
      oldest->yield = true;
    }
    list.push_back(connection);
    return true;
  }

  void remove(const std::string& address, Connection* connection) {
    std::lock_guard lock(mutex_);
    auto it = by_address_.find(address);
    if (it == by_address_.end()) {
      return;
    }
    std::erase(it->second, connection);
    if (it->second.empty()) {
      by_address_.erase(it);
    }
  }

 private:
  size_t cap_;
  std::mutex mutex_;
  std::map<std::string, std::vector<Connection*>> by_address_;
};

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
        registry_(options.max_connections_per_address) {
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
        return;
      }
      router.handle(request, body, request_id, response);
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
      send_json(response, response.status, dump(nlohmann::json{{"detail", reason_for(response.status)}}));
      return HandlerResponse::Handled;
    }));
    set_exception_handler([](const httplib::Request&, httplib::Response& response, std::exception_ptr) {
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
    Connection connection;
    connection.set_idle(WorkerPool::job_queued_at());
    const bool counted = !trusted_proxies_.contains(peer);
    bool ok = false;
    if (!counted || admit(stream, peer, connection)) {
      ok = serve_requests(stream, connection);
      if (counted) {
        registry_.remove(peer, &connection);
      }
    }
    close_socket(sock);
    return ok;
  }

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

  // Counts the connection for its address, or answers 429. A newcomer at its
  // address's cap that sends its request at once beats a connection that
  // sends nothing.
  bool admit(SocketStream& stream, const std::string& peer, Connection& connection) {
    if (registry_.admit(peer, &connection, false) ||
        (wait_for(stream.socket(), POLLIN, kReadyGraceMs) && registry_.admit(peer, &connection, true))) {
      return true;
    }
    const auto started = Clock::now();
    const std::string id = new_request_id();
    write_front_door_response(stream, 429, "Too many connections from your address.", true, id,
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
      connection.set_busy();
      const auto started = Clock::now();
      const Head head = read_head(stream, started + head_timeout_);
      if (head.status == Head::Status::kClosed) {
        return true;
      }
      bool ok = true;
      const bool keep = head.status == Head::Status::kComplete
                            ? serve_complete_head(stream, head, started, remaining == 1, ok)
                            : reject_head(stream, head, started);
      if (!keep) {
        return ok;
      }
      connection.set_idle(Clock::now());
    }
    return true;
  }

  // A whole head: 431 for an over-long header line, else httplib's request.
  // True when the connection can serve the next request.
  bool serve_complete_head(SocketStream& stream, const Head& head, Clock::time_point started, bool last,
                           bool& ok) {
    if (longest_header_line(stream.peek().substr(0, head.size)) > kMaxHeaderLineBytes) {
      const std::string text(stream.peek().substr(0, head.size));
      stream.consume(head.size);
      const bool keep = discard_body(stream, text);
      const std::string id = new_request_id();
      write_front_door_response(stream, 431, "A request header is too large (at most 8 KiB a line).", !keep,
                                id);
      log_front_door(text, 431, id, "header line too long", started);
      return keep;
    }
    const uint64_t head_end = stream.consumed() + head.size;
    bool connection_closed = false;
    const httplib::Request* bound = nullptr;
    ok = process_request(stream, last, connection_closed, [&](httplib::Request& request) {
      bound = &request;
      in_flight_.bind(bound, {&stream, started});
    });
    if (bound != nullptr) {
      in_flight_.unbind(bound);
    }
    // httplib stops reading a head it rejects (a bad request line): what
    // follows cannot be framed, so the connection ends after its answer.
    return ok && !connection_closed && stream.consumed() >= head_end;
  }

  // A head that is too large (431) or late (408). True when the
  // connection can serve the next request.
  bool reject_head(SocketStream& stream, const Head& head, Clock::time_point started) {
    const std::string id = new_request_id();
    if (head.status == Head::Status::kTimeout) {
      const std::string text(stream.peek().substr(0, 512));
      write_front_door_response(stream, 408, "The request head did not arrive in time.", true, id);
      log_front_door(text, 408, id, "head timeout", started);
      return false;
    }
    std::string text;
    const bool ended = discard_head(stream, started + head_timeout_, text);
    const bool keep = ended && discard_body(stream, text);
    write_front_door_response(stream, 431, "Request headers too large (at most 16 KiB).", !keep, id);
    log_front_door(text, 431, id, "head too large", started);
    return keep;
  }

  // Waits for the next request in short slices, so that stop() is not held
  // up by idle connections and an idle connection makes way for others
  // (see http_server.h).
  bool wait_for_next_request(SocketStream& stream, Connection& connection) {
    if (stream.buffered() > 0) {
      return true;
    }
    const auto deadline = Clock::now() + std::chrono::seconds(keep_alive_timeout_sec_);
    while (svr_sock_ != INVALID_SOCKET) {
      if (wait_for(stream.socket(), POLLIN, 25)) {
        return true;
      }
      const auto now = Clock::now();
      if (now >= deadline || connection.yield) {
        return false;
      }
      WorkerPool* pool = pool_;
      if (pool != nullptr && pool->waiting() > 0 && connection.idle_for(now) >= kIdleYieldAfter &&
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

HttpServer::HttpServer(const Router& router, HttpServerOptions options)
    : server_(std::make_unique<Server>(options)) {
  auto& server = *server_;
  server.set_payload_max_length(kMaxBodyBytes);
  server.set_read_timeout(10, 0);
  server.set_write_timeout(10, 0);
  server.set_keep_alive_max_count(kKeepAliveMaxRequests);

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
}

bool HttpServer::is_running() const {
  return server_->is_running();
}

}  // namespace calndro::gateway
