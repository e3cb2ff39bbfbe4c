#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "gateway/api/event_client.h"
#include "gateway/api/live_stream.h"

// One WatchEvent call (SPEC §11) as the source of a GET /ID/changes/
// stream: a gRPC callback reactor (no thread of its own; gRPC runs it) that
// turns each EventChange into SSE bytes (sse_frames.h) for the hub to take.
//
// It reads the call as fast as the service sends and keeps at most one
// unsent event frame: a newer version replaces an older one the client has
// not been sent yet (SPEC lets a stream skip versions in between, never
// the latest), so a client slower than the changes costs no memory.
namespace calndro::gateway {

class EventWatch final : public grpc::ClientReadReactor<v1::EventChange>, public LiveStream {
 public:
  // Starts the call; frames render the event with URLs on `base`. The call
  // keeps the watch alive until it ends.
  static std::shared_ptr<EventWatch> start(EventClient& client, const CallMetadata& meta,
                                           const v1::WatchEventRequest& request, std::string base,
                                           WaitForReady wait = WaitForReady::kNo);

  enum class Opening {
    kOpen,      // the first message arrived: the stream is open
    kEnded,     // the call ended before any message: status() says why
    kTimedOut,  // neither in time (the call is cancelled)
  };
  // Waits for the first message or the end of the call, at most until `deadline`.
  Opening wait_until_open(std::chrono::steady_clock::time_point deadline);
  // How the call ended (once it has).
  grpc::Status status();

  void set_wake(std::function<void()> wake) override;
  Output take() override;
  void cancel() override;

  void OnReadDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

  EventWatch(OpenCalls& calls, std::string base, v1::WatchEventRequest request);

 private:
  // Keeps what `change` asks the client to be sent; true when it is news.
  bool keep_locked(const v1::EventChange& change);
  void ring_locked() const;

  // Released after the context (OpenCalls): declared before it.
  OpenCalls::Ticket ticket_;
  const std::string base_;
  const v1::WatchEventRequest request_;
  grpc::ClientContext context_;
  v1::EventChange incoming_;

  std::mutex mutex_;
  std::condition_variable opened_;
  bool open_ = false;
  bool call_done_ = false;  // OnDone has run
  bool finished_ = false;   // the client gets nothing more: deleted, or the call is done
  bool cancelled_ = false;
  grpc::Status status_;
  std::string event_frame_;  // the newest event not yet taken
  bool heartbeat_ = false;   // a heartbeat came since the last take
  std::string last_frame_;   // `deleted`: after it, the stream ends
  std::function<void()> wake_;
  // The call's own reference: gRPC holds the reactor until OnDone.
  std::shared_ptr<EventWatch> self_;
};

}  // namespace calndro::gateway
