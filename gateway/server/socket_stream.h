#pragma once

#include <httplib.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

// The connection's stream as the gateway reads it (http_server.cc): the
// front door and the GET-body reader share its buffer with httplib.
namespace calndro::gateway {

using Clock = std::chrono::steady_clock;

inline constexpr std::size_t kReadBufferSize = 4096;

// poll() for `events` on `fd` for up to `timeout_ms`; true when ready.
bool wait_for(int fd, short events, int timeout_ms);

enum class SocketEnd { kPeer, kLocal };

// The address and port of the socket's `end`.
void address_of(int fd, SocketEnd end, std::string& ip, int& port);

// A buffered socket stream of our own: httplib 0.11 skips the body of a
// GET, so the handler must be able to read it from the same buffer the
// request head came through; and the front door reads the whole head into
// the buffer (read_head) before httplib parses it from there.
class SocketStream final : public httplib::Stream {
 public:
  SocketStream(int fd, int read_timeout_ms, int write_timeout_ms)
      : fd_(fd), read_timeout_ms_(read_timeout_ms), write_timeout_ms_(write_timeout_ms) {}

  bool is_readable() const override;
  bool is_writable() const override;

  ssize_t read(char* out, size_t size) override {
    if (size == 0 || taken_over_) {
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
    if (taken_over_) {
      return static_cast<ssize_t>(size);  // the stream hub writes this connection now
    }
    if (!wait_for(fd_, POLLOUT, write_timeout_ms_)) {
      return -1;
    }
    ssize_t n;
    do {
      n = ::send(fd_, data, size, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    address_of(fd_, SocketEnd::kPeer, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    address_of(fd_, SocketEnd::kLocal, ip, port);
  }
  socket_t socket() const override { return fd_; }

  // The connection now belongs to someone else (the stream hub, which
  // writes a response that outlives its handler): httplib's writes of the
  // request's response go nowhere, reads find the end, and the server
  // neither serves another request on it nor closes it.
  void take_over() { taken_over_ = true; }
  bool taken_over() const { return taken_over_; }

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
  bool taken_over_ = false;
};

}  // namespace calndro::gateway
