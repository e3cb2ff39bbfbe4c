#pragma once

#include <grpcpp/server_context.h>

#include <string>
#include <string_view>

namespace calndro::events {

// The gateway's metadata naming its HTTP client's address.
inline constexpr const char* kClientAddressMetadata = "x-calndro-client-addr";

// The address the per-address login limit counts a call under (SPEC §2),
// as client_address_key() spells it; "unknown" when there is none.
// x-calndro-client-addr is believed only on a call that also carries the
// internal credential `internal_token` (config::is_internal_credential):
// anyone who reaches the port can set metadata, and a password sprayer
// naming a new address on every call would never meet the limit. Any other
// call counts under the peer address of its gRPC connection; one that sent
// the metadata without the credential is logged (a gateway without the
// credential makes every HTTP client share its own address).
std::string caller_address(const grpc::ServerContextBase& context, std::string_view internal_token);

}  // namespace calndro::events
