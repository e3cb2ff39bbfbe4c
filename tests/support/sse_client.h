#pragma once

// A client of one Server-Sent Events stream (GET /ID/changes/) on a plain
// socket, for the tests: it sees the exact bytes, can stop reading, and
// can leave at any moment. Header-only: the unit tests use it too.

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "support/raw_http.h"

namespace calndro::testing {

class SseClient {
 public:
  // Connects to 127.0.0.1:port and sends GET `target` with `headers`
  // (each line ending in CRLF; Host 127.0.0.1:port is added).
  SseClient(int port, const std::string& target, const std::string& headers = "") {
    fd_ = connect_from(port);
    const std::string request =
        "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n" + headers + "\r\n";
    if (fd_ >= 0) {
      ::send(fd_, request.data(), request.size(), MSG_NOSIGNAL);
    }
  }
  ~SseClient() { close(); }
  SseClient(const SseClient&) = delete;
  SseClient& operator=(const SseClient&) = delete;

  // Leaves: the server sees the connection close.
  void close() {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }

  // Reads until what arrived contains `needle` (true), or the server closes
  // or `timeout` passes (false).
  bool read_until(const std::string& needle,
                  std::chrono::milliseconds timeout = std::chrono::milliseconds(10000)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (received_.find(needle) == std::string::npos) {
      if (!read_some(deadline)) {
        return false;
      }
    }
    return true;
  }
  // True when the server closes the connection within `timeout`.
  bool closed_within(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (read_some(deadline)) {
    }
    return eof_;
  }
  // Everything received, head included.
  const std::string& received() const { return received_; }
  std::string status_line() const { return received_.substr(0, received_.find("\r\n")); }
  // What came after the head.
  std::string body() const {
    const auto end = received_.find("\r\n\r\n");
    return end == std::string::npos ? "" : received_.substr(end + 4);
  }
  // The `id:` of every message received, in order.
  std::vector<int64_t> ids() const {
    std::vector<int64_t> out;
    const std::string text = body();
    for (auto at = text.find("id: "); at != std::string::npos; at = text.find("id: ", at + 1)) {
      if (at == 0 || text[at - 1] == '\n') {
        out.push_back(std::stoll(text.substr(at + 4)));
      }
    }
    return out;
  }
  // The `data:` of the message with `id: id`; "" when none came.
  std::string data_of(int64_t id) const {
    const std::string text = body();
    const std::string marker = "\nid: " + std::to_string(id) + "\ndata: ";
    const auto at = text.find(marker);
    if (at == std::string::npos) {
      return "";
    }
    const auto begin = at + marker.size();
    return text.substr(begin, text.find('\n', begin) - begin);
  }

 private:
  bool read_some(std::chrono::steady_clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd pfd{fd_, POLLIN, 0};
    if (fd_ < 0 || eof_ || left.count() <= 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) {
      return false;
    }
    char buffer[65536];
    const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    received_.append(buffer, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string received_;
  bool eof_ = false;
};

}  // namespace calndro::testing
