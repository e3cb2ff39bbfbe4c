#include "gateway/api/sse_frames.h"

#include "gateway/api/json_mapping.h"

namespace calndro::gateway {

namespace {

// One `data:` line per line of `text`: a line break inside a field would
// end it early. The JSON written here has none (strings escape them), so
// this only guards the framing.
void append_data(std::string& frame, std::string_view text) {
  while (true) {
    const auto end = text.find_first_of("\r\n");
    frame += "data: ";
    frame += text.substr(0, end);
    frame += '\n';
    if (end == std::string_view::npos) {
      return;
    }
    text.remove_prefix(end + (text.substr(end, 2) == "\r\n" ? 2 : 1));
  }
}

}  // namespace

std::string change_frame(const v1::Event& event, const std::string& base) {
  const std::string body = event_body(event, base);
  std::string frame;
  frame.reserve(body.size() + 48);
  frame += "event: change\nid: ";
  frame += std::to_string(event.version());
  frame += '\n';
  append_data(frame, body);
  frame += '\n';
  return frame;
}

std::string deleted_frame(int64_t id) {
  // SPEC §11's spelling, space included.
  return "event: deleted\ndata: {\"id\": " + std::to_string(id) + "}\n\n";
}

std::string event_stream_head(std::string_view request_id) {
  std::string head =
      "HTTP/1.1 200 OK\r\n"
      "Content-Type: text/event-stream\r\n"
      "Cache-Control: no-cache\r\n"
      "X-Accel-Buffering: no\r\n"
      "X-Content-Type-Options: nosniff\r\n"
      "Connection: close\r\n"
      "X-Request-Id: ";
  head += request_id;
  head += "\r\n\r\n";
  return head;
}

}  // namespace calndro::gateway
