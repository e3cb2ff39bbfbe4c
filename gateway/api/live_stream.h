#pragma once

#include <functional>
#include <memory>
#include <string>

// A response that goes on after its handler has returned (GET /ID/changes/):
// the handler writes no body through httplib; it hands the server the head
// to write and a source of bytes, and the server's stream hub
// (gateway/server/sse_hub.h) writes them on the connection, which no
// worker holds any more, whenever the source has more.
namespace calndro::gateway {

class LiveStream {
 public:
  enum class After {
    kMore,  // more may come: ask again when woken
    kEnd,   // the stream is over once `bytes` are written: close
  };
  struct Output {
    std::string bytes;
    After after = After::kMore;
  };

  virtual ~LiveStream() = default;

  // The hub's doorbell, rung (from any thread) whenever take() has
  // something new; null: no longer ring. Rung at once when something waits.
  virtual void set_wake(std::function<void()> wake) = 0;
  // What waits to be written; the hub asks only once everything taken
  // before is written, so the source keeps what waits small (it replaces
  // an unsent frame by a newer one rather than queue both).
  virtual Output take() = 0;
  // The client has gone, or the gateway stops: end the source. Idempotent.
  virtual void cancel() = 0;
};

// What a streaming handler answers: the response head (status line and
// headers, blank line included) and the source of the body.
struct StreamingAnswer {
  std::string head;
  std::shared_ptr<LiveStream> source;
  std::string request_id;  // for the line logged when the stream ends
};

}  // namespace calndro::gateway
