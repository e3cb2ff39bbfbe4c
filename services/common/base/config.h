#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/base/settings.h"

// The internal credential between the processes. The settings themselves
// (CALNDRO_INTERNAL_TOKEN, _FILE) are read like every other: common/base/settings.h.
namespace calndro::config {

// The credential the gateway presents to the event service and the event
// service to the notification service (metadata x-calndro-internal). The
// default is public: it is only good while nothing but this machine can
// reach the services.
inline constexpr const char* kInternalCredentialMetadata = "x-calndro-internal";
inline constexpr const char* kDefaultInternalToken = "calndro-local-internal";
inline constexpr std::size_t kMinInternalTokenLength = 32;

// True when a gRPC listen address is reachable from this machine only:
// 127.0.0.0/8, [::1], localhost, or a unix socket.
bool is_loopback_listen(std::string_view address);

struct InternalToken {
  std::string value;
  bool is_default = false;
};

// CALNDRO_INTERNAL_TOKEN, or the first line of the file that
// CALNDRO_INTERNAL_TOKEN_FILE names (not both), from `settings`. Unset means
// the public default, which only a loopback `listen_address` may use: beyond
// loopback the default, or a credential shorter than kMinInternalTokenLength,
// throws (anyone who reaches the notification service could otherwise queue
// mail to anyone).
InternalToken internal_token(const settings::Values& settings, const std::string& listen_address);

// The same credential as a client reads it (the gateway, for the gRPC target
// of the event service): the public default only while `target` is on
// loopback. Beyond it the default, or a credential shorter than
// kMinInternalTokenLength, throws: the event service, which refuses the
// default there, would not believe the client addresses the gateway
// forwards, and every HTTP client would share the gateway's login limit.
InternalToken internal_token_for_target(const settings::Values& settings, const std::string& target);

// True when `offered` is the internal credential `expected`, compared in
// constant time whatever the lengths (both are hashed first). Never true
// for an empty `expected`.
bool is_internal_credential(std::string_view offered, std::string_view expected);

}  // namespace calndro::config
