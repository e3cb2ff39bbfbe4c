#pragma once

#include <httplib.h>

#include <mutex>
#include <optional>
#include <unordered_map>

#include "gateway/api/live_stream.h"
#include "gateway/server/connection_registry.h"
#include "gateway/server/socket_stream.h"

namespace calndro::gateway {

// The requests being served, each with the connection it came on, keyed by
// the Request httplib hands to the handler and the logger: bound through
// process_request's setup_request, called for the request it is about to
// route.
class RequestsInFlight {
 public:
  struct Entry {
    SocketStream* stream = nullptr;
    Clock::time_point started;
    Connection* connection = nullptr;
    // Where a streaming answer waits until httplib is done with the request.
    std::optional<StreamingAnswer>* streaming = nullptr;
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

}  // namespace calndro::gateway
