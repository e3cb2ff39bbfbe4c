#pragma once

#include <grpcpp/server_context.h>
#include <grpcpp/support/status.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "common/db/unit_of_work.h"

// The one wrapper around every RPC handler of both services: the handler's
// body returns absl::Status; this turns it into the wire status (details
// included), maps the exceptions that may escape it (database down, a
// connection lost mid-call, a commit in doubt, anything else) to statuses that
// reveal no SQL or internals, and logs the call once.
namespace calndro {

// The longest x-request-id kept (logs, the audit trail).
inline constexpr std::size_t kMaxRequestIdBytes = 128;

// A metadata value the caller sent, if any.
std::optional<std::string> metadata_value(const grpc::ServerContextBase& context, std::string_view key);
// The caller's x-request-id, cut to kMaxRequestIdBytes; empty when absent.
std::string request_id(const grpc::ServerContextBase& context);

// The status for an exception that escaped a handler; logs its detail with
// `method` and the request id (the caller never sees it).
absl::Status status_from_exception(std::string_view method, const std::string& request_id);

// The deadline and cancellation of `context`'s call, for the handler to pass
// down to the database (common/db/unit_of_work.h). Lives no longer than
// `context`.
CallContext call_context(const grpc::ServerContext& context);

// Runs `body` for the RPC `method` and returns its status for the wire; a
// call whose deadline passed is not started. A CallAbandoned thrown from
// the database answers its own status.
grpc::Status serve_rpc(const grpc::ServerContext& context, std::string_view method,
                       absl::FunctionRef<absl::Status()> body);

}  // namespace calndro
