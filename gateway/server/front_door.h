#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "gateway/server/socket_stream.h"

// The front door (http_server.h): what the gateway does with a request head
// before httplib parses it, and the answers it writes itself.
namespace calndro::gateway {

// A request head as the front door found it in the stream's buffer.
struct Head {
  enum class Status { kComplete, kTooLarge, kTimeout, kClosed };
  Status status = Status::kClosed;
  size_t size = 0;  // kComplete: bytes up to and including the blank line
};

// A body over the limit is read and dropped up to this size so the
// connection stays usable; beyond it the connection is closed.
inline constexpr std::size_t kMaxDiscardBytes = std::size_t{8} * 1024 * 1024;

// httplib 0.11's compiled-in CPPHTTPLIB_HEADER_MAX_LENGTH: a longer header
// line makes it stop reading the head half way (a plain 400).
inline constexpr size_t kMaxHeaderLineBytes = 8192;

// Reads until the buffer holds a whole head of at most kMaxHeadBytes, the
// deadline passes, or the head is known to be too large.
// A request under way when the server stops still gets its deadline.
Head read_head(SocketStream& stream, Clock::time_point deadline);

// Takes an over-long head off the stream (up to 64 KiB), keeping it in
// `head` to learn about its body. False when its end did not come in time
// or within the size.
bool discard_head(SocketStream& stream, Clock::time_point deadline, std::string& head);

// Drops the body a rejected head announced, so the connection can serve
// the next request. False when it cannot be framed or is too large.
bool discard_body(SocketStream& stream, std::string_view head);

// The length of the longest header line (not the request line) of a head,
// with its CRLF.
size_t longest_header_line(std::string_view head);

// Request headers that httplib drops when their value is empty, as if they
// were absent: a write sent with a condition (If-Match) or a key
// (Idempotency-Key) would then run without one. The front door refuses them.
inline constexpr std::string_view kHeadersNeverEmpty[] = {"If-Match", "Idempotency-Key"};

// The first of kHeadersNeverEmpty that `head` sends with an empty value
// (nothing but blanks); empty when none.
std::string_view empty_header_that_matters(std::string_view head);

// What becomes of the connection after an answer.
enum class AfterAnswer { kKeepAlive, kClose };

// An answer the front door writes itself (httplib never saw the request).
void write_front_door_response(SocketStream& stream, int status, std::string_view detail, AfterAnswer after,
                               const std::string& request_id, std::string_view extra_headers = {});

// The JSON detail of an error answered before the router: the front door's,
// a GET body's, and those httplib answers itself (400, 413, 414, ...).
std::string error_detail(int status);

// Milliseconds since `started`, rounded to microseconds, for log lines.
double milliseconds_since(Clock::time_point started);

// The log line of a request the front door answered.
void log_front_door(std::string_view head, int status, const std::string& request_id, std::string_view reason,
                    Clock::time_point started);

}  // namespace calndro::gateway
