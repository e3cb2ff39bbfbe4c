#pragma once

#include <httplib.h>

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>

#include "gateway/api/event_client.h"
#include "gateway/api/http_errors.h"

// The caller's credentials as forwarded to the event service: the
// Authorization header verbatim and the email token (X-Email-Token, else
// ?et=, else the JSON body's "et": httpie's et=KEY).
namespace calndro::gateway {

// Forwarded credentials are bounded well below any gRPC metadata limit, so
// a long header is answered here (431) and never reaches the channel.
inline constexpr std::size_t kMaxAuthorizationBytes = 4096;
inline constexpr std::size_t kMaxEmailTokenBytes = 256;

// Fills meta.authorization and meta.email_token; takes "et" out of
// `document` (it is never an event field). The error to answer otherwise.
std::optional<HttpError> read_credentials(const httplib::Request& request, nlohmann::json& document,
                                          CallMetadata& meta);

}  // namespace calndro::gateway
