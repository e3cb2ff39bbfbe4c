#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "calndro/events/v1/events.pb.h"

// The bytes of GET /ID/changes/ (SPEC §11), as the WHATWG HTML standard's
// "Server-sent events" frames them: `event:`, `id:` and `data:` lines, a
// blank line ends a message, a line starting with `:` is a comment.
namespace calndro::gateway {

namespace v1 = calndro::events::v1;

// A comment: keeps proxies from closing a quiet stream, dispatches nothing.
inline constexpr std::string_view kKeepAliveFrame = ": keep-alive\n\n";

// `event: change`, `id: VERSION` (what EventSource sends back as
// Last-Event-ID), `data:` the event exactly as GET /ID/ renders it, on one
// line, URLs on `base`.
std::string change_frame(const v1::Event& event, const std::string& base);

// `event: deleted` with `data: {"id": ID}`: the stream's last message.
std::string deleted_frame(int64_t id);

// The response head of a stream: 200, text/event-stream, never cached or
// buffered by a proxy, the request's id. The body ends when the connection
// closes (no Content-Length, not chunked: EventSource reads either, and
// nothing follows a stream on its connection).
std::string event_stream_head(std::string_view request_id);

}  // namespace calndro::gateway
