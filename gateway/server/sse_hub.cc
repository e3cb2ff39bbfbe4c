#include "gateway/server/sse_hub.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <stdexcept>

#include "common/base/log.h"
#include "gateway/server/front_door.h"

namespace calndro::gateway {

namespace {

constexpr uint64_t kWakeKey = 0;  // the eventfd's epoll key; streams count from 1
constexpr int kMaxEvents = 256;
// How often stalled streams are looked at: the slow-reader limit is kept
// to within this.
constexpr std::chrono::milliseconds kScanEvery{100};
constexpr uint32_t kReadEvents = EPOLLIN | EPOLLRDHUP;

// Drops what the client sent (nothing is expected after the request); false
// when it has closed its end or the connection failed.
bool client_still_there(int fd) {
  std::array<char, 4096> sink;
  for (int i = 0; i < 4; ++i) {
    const ssize_t n = ::recv(fd, sink.data(), sink.size(), MSG_DONTWAIT);
    if (n == 0) {
      return false;
    }
    if (n < 0) {
      return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    }
  }
  return true;
}

// A finished stream closes as any answer does: its last bytes first. A slow
// reader's connection is reset, so its unread bytes do not hold kernel
// memory until a timeout.
void close_connection(int fd, bool reset) {
  if (reset) {
    const linger abort_close{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_close, sizeof(abort_close));
  } else {
    ::shutdown(fd, SHUT_WR);
    client_still_there(fd);  // unread input would turn the close into a reset
  }
  ::close(fd);
}

}  // namespace

SseHub::SseHub(SseHubOptions options) : options_(options) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || wake_fd_ < 0) {
    throw std::runtime_error("SseHub: cannot create epoll or eventfd");
  }
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = kWakeKey;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &event);
  thread_ = std::thread([this] { run(); });
}

SseHub::~SseHub() {
  stop();
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

void SseHub::stop() {
  std::lock_guard stop_lock(stop_mutex_);
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  signal();
  if (thread_.joinable()) {
    thread_.join();
  }
}

bool SseHub::adopt(int fd, StreamingAnswer& answer) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      return false;
    }
    Stream stream{.key = next_key_++,
                  .fd = fd,
                  .source = std::move(answer.source),
                  .request_id = std::move(answer.request_id),
                  .opened = Clock::now(),
                  .out = std::move(answer.head),
                  .sent = 0,
                  .last = false,
                  .watching_writes = false,
                  .stalled_since = std::nullopt};
    arrivals_.push_back(std::move(stream));
  }
  signal();
  return true;
}

void SseHub::signal() {
  const uint64_t one = 1;
  // A full counter (it never is) would still leave the eventfd readable.
  [[maybe_unused]] const ssize_t written = ::write(wake_fd_, &one, sizeof(one));
}

void SseHub::ring(uint64_t key) {
  bool first = false;
  {
    std::lock_guard lock(mutex_);
    first = ready_.empty();
    ready_.push_back(key);
  }
  if (first) {
    signal();
  }
}

void SseHub::run() {
  std::array<epoll_event, kMaxEvents> events;
  while (true) {
    const int count = ::epoll_wait(epoll_fd_, events.data(), kMaxEvents, wait_timeout_ms());
    if (count < 0 && errno != EINTR) {
      log::error("stream hub: epoll_wait failed", {{"errno", errno}});
      break;
    }
    for (int i = 0; i < count; ++i) {
      if (events[i].data.u64 != kWakeKey) {
        on_socket(events[i].data.u64, events[i].events);
      } else if (!take_signals()) {
        end_all();
        return;
      }
    }
    drop_slow_readers();
  }
  end_all();
}

int SseHub::wait_timeout_ms() const {
  return stalled_ > 0 ? static_cast<int>(kScanEvery.count()) : -1;
}

// New streams and the streams whose source rang. False when stopping.
bool SseHub::take_signals() {
  uint64_t counter = 0;
  [[maybe_unused]] const ssize_t drained = ::read(wake_fd_, &counter, sizeof(counter));
  std::vector<Stream> arrivals;
  std::vector<uint64_t> ready;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      return false;
    }
    arrivals.swap(arrivals_);
    ready.swap(ready_);
  }
  for (Stream& arrival : arrivals) {
    start_stream(std::move(arrival));
  }
  for (const uint64_t key : ready) {
    pump(key);
  }
  return true;
}

void SseHub::start_stream(Stream arrival) {
  const int fd = arrival.fd;
  const uint64_t key = arrival.key;
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  epoll_event event{};
  event.events = kReadEvents;
  event.data.u64 = key;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
    arrival.source->cancel();
    close_connection(fd, false);
    return;
  }
  auto& stream = streams_.emplace(key, std::move(arrival)).first->second;
  ++open_;
  // Rings at once when the source already has something.
  stream.source->set_wake([this, key] { ring(key); });
  pump(key);
}

void SseHub::on_socket(uint64_t key, uint32_t events) {
  auto found = streams_.find(key);
  if (found == streams_.end()) {
    return;  // ended earlier in this round
  }
  if ((events & (kReadEvents | EPOLLHUP | EPOLLERR)) != 0 && !client_still_there(found->second.fd)) {
    end(key, Ending::kClientLeft);
    return;
  }
  if ((events & EPOLLOUT) != 0) {
    pump(key);
  }
}

void SseHub::pump(uint64_t key) {
  auto found = streams_.find(key);
  if (found == streams_.end()) {
    return;
  }
  Ending ending = Ending::kFinished;
  if (!write_out(found->second, ending)) {
    end(key, ending);
  }
}

bool SseHub::write_out(Stream& stream, Ending& ending) {
  while (true) {
    if (stream.sent == stream.out.size()) {
      mark_stalled(stream, false);
      if (stream.last) {
        ending = Ending::kFinished;
        return false;
      }
      LiveStream::Output output = stream.source->take();
      stream.last = output.after == LiveStream::After::kEnd;
      stream.out = std::move(output.bytes);  // frees what was written
      stream.sent = 0;
      if (stream.out.empty() && !stream.last) {
        watch_writes(stream, false);
        return true;
      }
      continue;
    }
    const ssize_t n = ::send(stream.fd, stream.out.data() + stream.sent, stream.out.size() - stream.sent,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      stream.sent += static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      mark_stalled(stream, true);
      watch_writes(stream, true);
      return true;
    } else if (n < 0 && errno != EINTR) {
      ending = Ending::kClientLeft;
      return false;
    }
  }
}

void SseHub::watch_writes(Stream& stream, bool on) {
  if (stream.watching_writes == on) {
    return;
  }
  stream.watching_writes = on;
  epoll_event event{};
  event.events = on ? kReadEvents | EPOLLOUT : kReadEvents;
  event.data.u64 = stream.key;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, stream.fd, &event);
}

const char* SseHub::ending_name(Ending ending) {
  switch (ending) {
    case Ending::kFinished:
      return "finished";
    case Ending::kClientLeft:
      return "client left";
    case Ending::kSlowReader:
      return "slow reader";
    case Ending::kStopping:
      return "stopping";
  }
  return "";
}

void SseHub::mark_stalled(Stream& stream, bool stalled) {
  if (stalled == stream.stalled_since.has_value()) {
    return;
  }
  if (stalled) {
    stream.stalled_since = Clock::now();
    ++stalled_;
  } else {
    stream.stalled_since.reset();
    --stalled_;
  }
}

// A client that has left written bytes unread for the limit is
// disconnected: what waits for it would otherwise only grow stale.
void SseHub::drop_slow_readers() {
  const auto now = Clock::now();
  if (stalled_ == 0 || now - last_scan_ < kScanEvery) {
    return;
  }
  last_scan_ = now;
  std::vector<uint64_t> slow;
  for (const auto& [key, stream] : streams_) {
    if (stream.stalled_since && now - *stream.stalled_since >= options_.slow_reader) {
      slow.push_back(key);
    }
  }
  for (const uint64_t key : slow) {
    end(key, Ending::kSlowReader);
  }
}

void SseHub::end(uint64_t key, Ending ending) {
  auto found = streams_.find(key);
  if (found == streams_.end()) {
    return;
  }
  Stream& stream = found->second;
  // After set_wake(nullptr) the source no longer rings (and no ring is
  // under way): its key may be forgotten.
  stream.source->set_wake(nullptr);
  // A finished source may still have its call open (`deleted` came first).
  stream.source->cancel();
  mark_stalled(stream, false);
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, stream.fd, nullptr);
  close_connection(stream.fd, ending == Ending::kSlowReader);
  log::info("stream ended", {{"request_id", stream.request_id},
                             {"reason", ending_name(ending)},
                             {"duration_ms", milliseconds_since(stream.opened)}});
  streams_.erase(found);
  --open_;
}

// On stop: every stream, and those adopted since the last round.
void SseHub::end_all() {
  std::vector<Stream> arrivals;
  {
    std::lock_guard lock(mutex_);
    arrivals.swap(arrivals_);
    ready_.clear();
  }
  for (Stream& arrival : arrivals) {
    arrival.source->cancel();
    close_connection(arrival.fd, false);
  }
  std::vector<uint64_t> keys;
  keys.reserve(streams_.size());
  for (const auto& [key, stream] : streams_) {
    keys.push_back(key);
  }
  for (const uint64_t key : keys) {
    end(key, Ending::kStopping);
  }
}

}  // namespace calndro::gateway
