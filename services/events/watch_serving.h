#pragma once

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/rpc/grpc_server.h"
#include "events/event_streams.h"
#include "events/event_watch.h"

// WatchEvent's calls (SPEC §11) on gRPC's async API: one stream
// (event_watch.h) waits for each next call, and one thread of our own runs
// the queue's completions (they only take a stream's lock and start the
// next write or the finish; the database work is on EventStreams' workers).
//
// Why not gRPC's callback API, which holds streams as cheaply: in gRPC
// 1.51 a service with a callback method makes the server "hybrid", and a
// hybrid server's synchronous queues do not poll the network; the callback
// queue's two threads do, and each naps 100 ms after an idle second. Every
// other RPC of the event service then waited out such a nap now and again
// (p99 80-100 ms instead of 11-23 ms; docs/PERFORMANCE.md). The async API's
// queue, not "frequently polled" (grpc_server.cc), keeps the server
// synchronous.
namespace calndro::events {

class EventServiceImpl;

class WatchServing final : public AsyncCalls {
 public:
  // Both outlive this.
  WatchServing(EventServiceImpl& service, EventStreams& streams);
  ~WatchServing() override;
  WatchServing(const WatchServing&) = delete;
  WatchServing& operator=(const WatchServing&) = delete;

  void start(grpc::ServerCompletionQueue& queue) override;
  void stop() override;

 private:
  // One stream awaits the next call (unless the queue is shutting down).
  void await_next();
  void run_completions();

  EventStreams& streams_;
  WatchHooks hooks_;
  grpc::ServerCompletionQueue* queue_ = nullptr;
  std::thread thread_;

  // The queue is shut down only once no stream can start an operation on
  // it (gRPC aborts on an operation begun on a queue that has shut down):
  // stop() waits for every awaited stream's release.
  std::mutex mutex_;
  std::condition_variable all_released_;
  int unreleased_ = 0;
  bool stopping_ = false;
};

}  // namespace calndro::events
