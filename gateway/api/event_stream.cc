#include "gateway/api/event_stream.h"

#include <thread>

#include "gateway/api/event_watch.h"
#include "gateway/api/request_text.h"
#include "gateway/api/sse_frames.h"
#include "gateway/web/web_page.h"

namespace calndro::gateway {

namespace {

constexpr const char* kLastEventIdHeader = "Last-Event-ID";
constexpr const char* kLastEventIdParam = "last_event_id";
// As EventClient's retry: the channel learns of a broken connection a
// moment after the call that found it.
constexpr std::chrono::milliseconds kStreamRetryPause{20};

Outcome check_accept(const httplib::Request& request) {
  const std::string accept = request.get_header_value("Accept");
  if (accept_quality(accept, "text", "event-stream") > 0) {
    return std::nullopt;
  }
  return detail_error(406, "This path serves only text/event-stream, which the Accept header \"" +
                               quoted_for_error(accept) + "\" does not allow.");
}

// A version to resume after: a whole number, 0 meaning none.
std::optional<int64_t> parse_version(std::string_view text) {
  if (text == "0") {
    return 0;
  }
  const int64_t version = parse_id(text);
  return version > 0 ? std::optional<int64_t>(version) : std::nullopt;
}

// The header wins over the query: EventSource sends it when it reconnects,
// naming a version newer than the address it was first opened with.
Outcome read_resume_point(const httplib::Request& request, v1::WatchEventRequest& rpc) {
  std::string text;
  std::string name;
  if (request.has_header(kLastEventIdHeader)) {
    name = kLastEventIdHeader;
    text = request.get_header_value(kLastEventIdHeader);
  } else if (request.has_param(kLastEventIdParam)) {
    name = kLastEventIdParam;
    text = request.get_param_value(kLastEventIdParam);
  } else {
    return std::nullopt;
  }
  const std::optional<int64_t> version = parse_version(text);
  if (!version) {
    return detail_error(
        400, name + " must be an event version (a whole number), not \"" + quoted_for_error(text) + "\".");
  }
  rpc.set_after_version(*version);
  return std::nullopt;
}

// The answer to a call that ended before its first message.
HttpError refusal(const grpc::Status& status) {
  if (status.ok()) {
    return detail_error(503, "The event service ended the stream before it began; try again.");
  }
  return http_error_from_status(status);
}

// The call, once its first message has come; otherwise the error to answer.
// A connection that failed under it is tried once more (a read, like GET
// /ID/), within the same time.
std::shared_ptr<EventWatch> open_watch(Exchange& exchange, const v1::WatchEventRequest& rpc,
                                       HttpError& error) {
  const auto deadline = std::chrono::steady_clock::now() + exchange.client.timeout();
  WaitForReady wait = WaitForReady::kNo;
  for (int attempt = 0;; ++attempt) {
    auto watch = EventWatch::start(exchange.client, exchange.meta, rpc, exchange.base, wait);
    const EventWatch::Opening opening = watch->wait_until_open(deadline);
    if (opening == EventWatch::Opening::kOpen) {
      return watch;
    }
    if (opening == EventWatch::Opening::kTimedOut) {
      error = http_error_from_status(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, ""));
      return nullptr;
    }
    const grpc::Status status = watch->status();
    const CallFailure failure = classify_failure(status);
    if (failure == CallFailure::kNone || attempt > 0) {
      error = refusal(status);
      return nullptr;
    }
    if (failure == CallFailure::kMaybeSent) {
      std::this_thread::sleep_for(kStreamRetryPause);
      wait = WaitForReady::kYes;
    }
  }
}

}  // namespace

Outcome watch_changes(Exchange& exchange) {
  if (Outcome error = check_accept(exchange.request)) {
    return error;
  }
  v1::WatchEventRequest rpc;
  rpc.set_id(exchange.id);
  if (Outcome error = read_resume_point(exchange.request, rpc)) {
    return error;
  }
  HttpError error;
  std::shared_ptr<EventWatch> watch = open_watch(exchange, rpc, error);
  if (!watch) {
    return error;
  }
  // For the request's log line and metrics; the server writes the head itself.
  exchange.response.status = 200;
  exchange.streaming = StreamingAnswer{event_stream_head(exchange.meta.request_id), std::move(watch),
                                       exchange.meta.request_id};
  return std::nullopt;
}

}  // namespace calndro::gateway
