#pragma once

#include <httplib.h>

#include <optional>
#include <string>

#include "gateway/api/http_errors.h"
#include "gateway/server/socket_stream.h"

// Request bodies as the handler gets them: httplib 0.11 reads none on GET,
// yet httpie's `http GET :9000/7/ et=KEY` sends one (gateway/README.md).
namespace calndro::gateway {

// The body as sent, including the GET body httplib left on `stream`. The
// error to answer otherwise, with Connection: close when the connection
// cannot be reused.
std::optional<HttpError> read_unread_body(const httplib::Request& request, SocketStream* stream,
                                          httplib::Response& response, std::string& body);

}  // namespace calndro::gateway
