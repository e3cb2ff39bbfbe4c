#include "gateway/server/front_door.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "common/base/log.h"
#include "common/text/text.h"
#include "gateway/api/json_mapping.h"
#include "gateway/api/request_text.h"
#include "gateway/server/http_server.h"

namespace calndro::gateway {

namespace {

constexpr std::string_view kHeadEnd = "\r\n\r\n";
// A head over kMaxHeadBytes is still read (and dropped) up to this size,
// so that the 431 can keep the connection.
constexpr size_t kMaxDiscardHeadBytes = size_t{64} * 1024;

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<int64_t>(left, 0, 100));
}

}  // namespace

// Reads until the buffer holds a whole head of at most kMaxHeadBytes, the
// deadline passes, or the head is known to be too large.
// A request under way when the server stops still gets its deadline.
Head read_head(SocketStream& stream, Clock::time_point deadline) {
  size_t searched = 0;
  while (true) {
    const std::string_view data = stream.peek();
    const std::string_view window = data.substr(0, kMaxHeadBytes);
    if (const auto end = window.find(kHeadEnd, searched > 3 ? searched - 3 : 0);
        end != std::string_view::npos) {
      return {Head::Status::kComplete, end + kHeadEnd.size()};
    }
    if (data.size() >= kMaxHeadBytes) {
      return {Head::Status::kTooLarge, 0};
    }
    searched = data.size();
    if (Clock::now() >= deadline) {
      return {Head::Status::kTimeout, 0};
    }
    if (stream.fill(remaining_ms(deadline)) == 0) {
      return {Head::Status::kClosed, 0};
    }
  }
}

// Takes an over-long head off the stream (up to kMaxDiscardHeadBytes),
// keeping it in `head` to learn about its body. False when its end did not
// come in time or within the size.
bool discard_head(SocketStream& stream, Clock::time_point deadline, std::string& head) {
  while (head.size() < kMaxDiscardHeadBytes) {
    const std::string_view data = stream.peek();
    if (!data.empty()) {
      const size_t before = head.size();
      const size_t take = std::min(data.size(), kMaxDiscardHeadBytes - before);
      head.append(data.substr(0, take));
      const size_t from = before > 3 ? before - 3 : 0;
      if (const auto end = head.find(kHeadEnd, from); end != std::string::npos) {
        const size_t head_size = end + kHeadEnd.size();
        stream.consume(head_size - before);
        head.resize(head_size);
        return true;
      }
      stream.consume(take);
      continue;
    }
    if (Clock::now() >= deadline || stream.fill(remaining_ms(deadline)) == 0) {
      return false;
    }
  }
  return false;
}

namespace {

// The value of header `name` (lower case) in a raw head; nullopt when absent.
std::optional<std::string> raw_header(std::string_view head, std::string_view name) {
  size_t at = head.find("\r\n");
  while (at != std::string_view::npos && at + 2 < head.size()) {
    const size_t start = at + 2;
    const size_t end = head.find("\r\n", start);
    const std::string_view line =
        head.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    const auto colon = line.find(':');
    if (colon != std::string_view::npos && to_lower_ascii(line.substr(0, colon)) == name) {
      return std::string(trim_blanks(line.substr(colon + 1)));
    }
    at = end;
  }
  return std::nullopt;
}

}  // namespace

// Drops the body a rejected head announced, so the connection can serve
// the next request. False when it cannot be framed or is too large.
bool discard_body(SocketStream& stream, std::string_view head) {
  if (raw_header(head, "transfer-encoding")) {
    return false;
  }
  const auto length_text = raw_header(head, "content-length");
  if (!length_text || *length_text == "0") {
    return true;
  }
  const int64_t length = parse_id(*length_text);
  if (length <= 0 || static_cast<size_t>(length) > kMaxDiscardBytes) {
    return false;
  }
  return stream.read_exactly(static_cast<size_t>(length), nullptr);
}

namespace {

// "METHOD /path" of a raw head for the log line (no query: it may hold a
// token), printable and bounded.
void request_line_parts(std::string_view head, std::string& method, std::string& path) {
  const std::string_view line = head.substr(0, std::min(head.find("\r\n"), size_t{512}));
  const auto space = line.find(' ');
  method = std::string(line.substr(0, std::min(space, size_t{16})));
  if (space != std::string_view::npos) {
    std::string_view target = line.substr(space + 1);
    target = target.substr(0, target.find_first_of(" ?"));
    path = std::string(target.substr(0, 200));
  }
  for (std::string* text : {&method, &path}) {
    for (char& c : *text) {
      if (c < 0x21 || c > 0x7e) {
        c = '?';
      }
    }
  }
}

// The status line's reason phrase and the JSON detail of an error the
// gateway answers before its router (front door, body reading, httplib).
struct StatusWords {
  int status;
  std::string_view phrase;
  std::string_view detail;
};

constexpr StatusWords kStatusWords[] = {
    {400, "Bad Request", "Bad request."},
    {404, "Not Found", "Not found."},
    {405, "Method Not Allowed", "Method not allowed."},
    {408, "Request Timeout", "The request head did not arrive in time."},
    {411, "Length Required", "A Content-Length is required for a body on this method."},
    {413, "Payload Too Large", "Request body too large (at most 64 KiB)."},
    {414, "URI Too Long", "Request URI too long."},
    {429, "Too Many Requests", "Too many requests."},
    {431, "Request Header Fields Too Large", "Request headers too large."},
};

const StatusWords* words_for(int status) {
  const auto row = std::find_if(std::begin(kStatusWords), std::end(kStatusWords),
                                [status](const StatusWords& words) { return words.status == status; });
  return row == std::end(kStatusWords) ? nullptr : row;
}

}  // namespace

std::string error_detail(int status) {
  if (const StatusWords* words = words_for(status)) {
    return std::string(words->detail);
  }
  return status >= 500 ? "Internal server error." : "Request rejected.";
}

// An answer the front door writes itself (httplib never saw the request).
void write_front_door_response(SocketStream& stream, int status, std::string_view detail, AfterAnswer after,
                               const std::string& request_id, std::string_view extra_headers) {
  const StatusWords* words = words_for(status);
  const std::string phrase(words != nullptr ? words->phrase : "Error");
  const std::string body = dump(nlohmann::json{{"detail", detail}});
  std::string response =
      "HTTP/1.1 " + std::to_string(status) + " " + phrase +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nX-Request-Id: " + request_id + "\r\n" + std::string(extra_headers) +
      (after == AfterAnswer::kClose ? "Connection: close\r\n" : "") + "\r\n" + body;
  size_t sent = 0;
  while (sent < response.size()) {
    const ssize_t n = stream.write(response.data() + sent, response.size() - sent);
    if (n <= 0) {
      return;
    }
    sent += static_cast<size_t>(n);
  }
}

double milliseconds_since(Clock::time_point started) {
  return std::round(std::chrono::duration<double, std::milli>(Clock::now() - started).count() * 1000.0) /
         1000.0;
}

void log_front_door(std::string_view head, int status, const std::string& request_id, std::string_view reason,
                    Clock::time_point started) {
  std::string method, path;
  request_line_parts(head, method, path);
  log::info("request", {{"request_id", request_id},
                        {"method", method},
                        {"path", path},
                        {"status", status},
                        {"rejected", std::string(reason)},
                        {"duration_ms", milliseconds_since(started)}});
}

namespace {

// Calls visit(line) for each header line of a head (the request line
// skipped, CRLFs not included) until visit returns false. Both checks below
// walk the head this way; no copy, since they run on every request.
template <typename Visit>
void for_each_header_line(std::string_view head, Visit visit) {
  size_t start = head.find("\r\n");
  while (start != std::string_view::npos) {
    start += 2;
    const size_t end = head.find("\r\n", start);
    if (end == std::string_view::npos || !visit(head.substr(start, end - start))) {
      return;
    }
    start = end;
  }
}

}  // namespace

// The length of the longest header line (not the request line) of a head,
// with its CRLF.
size_t longest_header_line(std::string_view head) {
  size_t longest = 0;
  for_each_header_line(head, [&longest](std::string_view line) {
    longest = std::max(longest, line.size() + 2);
    return true;
  });
  return longest;
}

std::string_view empty_header_that_matters(std::string_view head) {
  std::string_view found;
  for_each_header_line(head, [&found](std::string_view line) {
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || !trim_blanks(line.substr(colon + 1)).empty()) {
      return true;
    }
    const std::string name = to_lower_ascii(line.substr(0, colon));
    for (const std::string_view wanted : kHeadersNeverEmpty) {
      if (name == to_lower_ascii(wanted)) {
        found = wanted;
        return false;
      }
    }
    return true;
  });
  return found;
}

}  // namespace calndro::gateway
