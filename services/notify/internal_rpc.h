#pragma once

#include <grpcpp/server_context.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "common/grpc/rich_status.h"
#include "nlohmann/json.hpp"

// What the notification service's two gRPC services (NotificationService,
// WebhookService) share: only the event service may call them, and their
// lists page the same way.
namespace calndro::notify {

// The caller holds the internal credential (metadata x-calndro-internal,
// CALNDRO_INTERNAL_TOKEN): UNAUTHENTICATED when it is missing,
// PERMISSION_DENIED when wrong. A refusal is logged with `fields` and the code.
absl::Status check_internal_credential(const grpc::ServerContext& context, std::string_view expected,
                                       const nlohmann::json& fields);

// Opaque list cursor bound to its scope (an event filter, a webhook): the
// last id listed, or nullopt for a token that is not one for `scope`.
std::string encode_page_token(std::int64_t scope, std::int64_t last_id);
std::optional<std::int64_t> decode_page_token(const std::string& token, std::int64_t scope);

// What a list RPC's page_size and page_token ask for.
struct ListPage {
  std::int64_t before_id = 0;  // 0: from the newest
  int size = 0;                // the default when the caller said 0, at most the maximum
};
// The page, or the fields' violations added to `violations`
// (`token_description` says what a wrong cursor is).
ListPage read_list_page(std::int32_t page_size, const std::string& page_token, std::int64_t scope,
                        std::string_view token_description, std::vector<FieldViolation>& violations);

}  // namespace calndro::notify
