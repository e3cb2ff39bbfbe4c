#include "gateway/server/socket_stream.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

namespace calndro::gateway {

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

void address_of(int fd, SocketEnd end, std::string& ip, int& port) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  int rc = end == SocketEnd::kPeer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length)
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

bool SocketStream::is_readable() const {
  if (taken_over_) {
    return false;
  }
  return buffered() > 0 || wait_for(fd_, POLLIN, read_timeout_ms_);
}

bool SocketStream::is_writable() const {
  return taken_over_ || wait_for(fd_, POLLOUT, write_timeout_ms_);
}

}  // namespace calndro::gateway
