#include "events/caller_address.h"

#include <optional>

#include "common/base/config.h"
#include "common/base/log.h"
#include "common/rpc/rpc_call.h"
#include "events/login_throttle.h"

namespace calndro::events {

std::string caller_address(const grpc::ServerContextBase& context, std::string_view internal_token) {
  if (const auto forwarded = metadata_value(context, kClientAddressMetadata)) {
    const auto offered = metadata_value(context, config::kInternalCredentialMetadata);
    if (offered && config::is_internal_credential(*offered, internal_token)) {
      if (auto key = client_address_key(*forwarded)) {
        return *std::move(key);
      }
    } else {
      log::warn(
          "x-calndro-client-addr ignored: the call lacks the internal credential; counted under its peer",
          {{"request_id", request_id(context)}, {"credential", offered ? "wrong" : "missing"}});
    }
  }
  return client_address_key(context.peer()).value_or("unknown");
}

}  // namespace calndro::events
