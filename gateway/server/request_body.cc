#include "gateway/server/request_body.h"

#include "gateway/api/request_text.h"
#include "gateway/server/front_door.h"
#include "gateway/server/http_server.h"

namespace calndro::gateway {

namespace {

bool httplib_reads_body(const std::string& method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

HttpError body_error(httplib::Response& response, int status, AfterAnswer after) {
  if (after == AfterAnswer::kClose) {
    response.set_header("Connection", "close");
  }
  return detail_error(status, error_detail(status));
}

}  // namespace

std::optional<HttpError> read_unread_body(const httplib::Request& request, SocketStream* stream,
                                          httplib::Response& response, std::string& body) {
  if (httplib_reads_body(request.method)) {
    body = request.body;
    return std::nullopt;
  }
  if (request.get_header_value("Transfer-Encoding").find("chunked") != std::string::npos) {
    return body_error(response, 411, AfterAnswer::kClose);
  }
  const std::string length_text = request.get_header_value("Content-Length");
  if (length_text.empty() || length_text == "0") {
    return std::nullopt;
  }
  const int64_t length = parse_id(length_text);
  if (length == 0 || stream == nullptr) {
    return body_error(response, 400, AfterAnswer::kClose);
  }
  const auto size = static_cast<size_t>(length);
  if (size > kMaxBodyBytes) {
    const bool discarded = size <= kMaxDiscardBytes && stream->read_exactly(size, nullptr);
    return body_error(response, 413, discarded ? AfterAnswer::kKeepAlive : AfterAnswer::kClose);
  }
  if (!stream->read_exactly(size, &body)) {
    return body_error(response, 400, AfterAnswer::kClose);
  }
  return std::nullopt;
}

}  // namespace calndro::gateway
