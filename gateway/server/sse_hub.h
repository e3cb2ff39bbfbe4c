#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "gateway/api/live_stream.h"
#include "gateway/server/socket_stream.h"

// The connections whose response outlives its handler (GET /ID/changes/,
// gateway/api/live_stream.h), all on one thread: epoll over their sockets
// and an eventfd that a stream's source (a gRPC callback) rings when it has
// something new. A stream holds no worker and no thread, and at most the
// bytes being written plus what its source keeps waiting (one frame).
//
// A stream ends when its source ends (closed after its last bytes), when
// the client closes its end, when the client leaves written bytes unread
// for longer than `slow_reader` (disconnected, so memory stays bounded), or
// when the hub stops; the source is cancelled in the last three cases.
namespace calndro::gateway {

struct SseHubOptions {
  std::chrono::milliseconds slow_reader{30000};  // CALNDRO_SSE_SLOW_READER_MS
};

class SseHub {
 public:
  explicit SseHub(SseHubOptions options);
  ~SseHub();
  SseHub(const SseHub&) = delete;
  SseHub& operator=(const SseHub&) = delete;

  // Takes over `fd`, a connected socket nothing else uses any more: writes
  // `answer.head`, then what answer.source has, until the stream ends.
  // False once stopping: then `fd` and the source stay the caller's.
  [[nodiscard]] bool adopt(int fd, StreamingAnswer& answer);

  // Ends every stream (sources cancelled, connections closed) and takes no
  // more. Idempotent.
  void stop();

  // Streams being served.
  std::size_t open_streams() const { return open_.load(); }

 private:
  struct Stream {
    uint64_t key = 0;  // its epoll key
    int fd = -1;
    std::shared_ptr<LiveStream> source;
    std::string request_id;
    Clock::time_point opened;
    std::string out;  // being written
    std::size_t sent = 0;
    bool last = false;                               // `out` is the stream's end
    bool watching_writes = false;                    // EPOLLOUT is asked for
    std::optional<Clock::time_point> stalled_since;  // the client stopped taking bytes
  };
  enum class Ending { kFinished, kClientLeft, kSlowReader, kStopping };

  void run();
  bool take_signals();
  void start_stream(Stream arrival);
  void on_socket(uint64_t key, uint32_t events);
  void pump(uint64_t key);
  // Writes what `stream` has; false when the stream must end (`ending`).
  bool write_out(Stream& stream, Ending& ending);
  void watch_writes(Stream& stream, bool on);
  void mark_stalled(Stream& stream, bool stalled);
  void drop_slow_readers();
  void end(uint64_t key, Ending ending);
  static const char* ending_name(Ending ending);
  void end_all();
  int wait_timeout_ms() const;
  void ring(uint64_t key);
  void signal();

  const SseHubOptions options_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;

  std::mutex mutex_;  // guards the four below, never held while calling a source
  bool stopping_ = false;
  uint64_t next_key_ = 1;
  std::vector<Stream> arrivals_;
  std::vector<uint64_t> ready_;

  // The hub thread's own.
  std::unordered_map<uint64_t, Stream> streams_;
  std::size_t stalled_ = 0;
  Clock::time_point last_scan_;

  std::atomic<std::size_t> open_{0};
  std::mutex stop_mutex_;
  std::thread thread_;
};

}  // namespace calndro::gateway
