#include "events/watch_serving.h"

#include "events/event_service.h"

namespace calndro::events {

WatchServing::WatchServing(EventServiceImpl& service, EventStreams& streams) : streams_(streams) {
  hooks_.look = [&service](const Credentials& credentials, std::int64_t id, LookKind kind) {
    return service.look_for_watch(credentials, id, kind);
  };
  hooks_.credentials = [&service](const grpc::ServerContextBase& context) {
    return service.read_credentials(context);
  };
  hooks_.request = [&service, this](grpc::ServerContext* context, v1::WatchEventRequest* request,
                                    grpc::ServerAsyncWriter<v1::EventChange>* writer, void* tag) {
    service.RequestWatchEvent(context, request, writer, queue_, queue_, tag);
  };
  hooks_.accepted = [this] { EventWatch::await(streams_, hooks_); };
}

WatchServing::~WatchServing() {
  if (thread_.joinable()) {
    stop();
  }
}

void WatchServing::start(grpc::ServerCompletionQueue& queue) {
  queue_ = &queue;
  EventWatch::await(streams_, hooks_);
  thread_ = std::thread([this] { run_completions(); });
}

void WatchServing::stop() {
  queue_->Shutdown();
  thread_.join();
}

void WatchServing::run_completions() {
  void* tag = nullptr;
  bool ok = false;
  while (queue_->Next(&tag, &ok)) {
    EventWatch::complete(tag, ok);
  }
}

}  // namespace calndro::events
