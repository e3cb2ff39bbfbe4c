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

// The one wrapper around every RPC handler of both services: the handler's
// body returns absl::Status; this turns it into the wire status (details
// included), maps the exceptions that may escape it (database down, a
// connection lost mid-call, a commit in doubt, anything else) to statuses that
// reveal no SQL or internals, and logs the call once.
namespace calndro {

// The longest x-request-id kept (logs, the audit trail).
inline constexpr std::size_t kMaxRequestIdBytes = 128;

// A metadata value the caller sent, if any.
std::optional<std::string> metadata_value(const grpc::ServerContext& context, std::string_view key);
// The caller's x-request-id, cut to kMaxRequestIdBytes; empty when absent.
std::string request_id(const grpc::ServerContext& context);

// The status for an exception that escaped a handler; logs its detail with
// `method` and the request id (the caller never sees it).
absl::Status status_from_exception(std::string_view method, const std::string& request_id);

// DEADLINE_EXCEEDED once the deadline of the call this thread serves
// (within serve_rpc) has passed, else OK (also on a thread that serves no
// call). A clock read: checked before a call starts and before a write that
// commits on its own.
absl::Status call_within_deadline();

// call_within_deadline(), and CANCELLED once the caller cancelled the call.
// A transaction checks it right before COMMIT: a change whose caller was
// told it failed must not land after the caller's next one. Asking gRPC
// whether a synchronous call was cancelled polls the call's completion
// queue (tens of microseconds, a fifth of a read's CPU when asked on every
// statement), so this full check is kept for that one place.
absl::Status call_still_wanted();

// The deadline of the call this thread serves (within serve_rpc); nullopt
// when it serves none or its caller set none.
std::optional<std::chrono::system_clock::time_point> call_deadline();

// Thrown by throw_if_past_deadline(); serve_rpc answers its status.
class CallAbandoned : public std::runtime_error {
 public:
  explicit CallAbandoned(absl::Status status)
      : std::runtime_error(std::string(status.message())), status_(std::move(status)) {}
  const absl::Status& status() const { return status_; }

 private:
  absl::Status status_;
};

// For a write that commits on its own (no transaction to roll back):
// throws CallAbandoned, before the write, once the call's deadline passed
// (call_within_deadline(); a statement still running at the deadline is
// cancelled by the event service's DeadlineWatch).
void throw_if_past_deadline();

// Runs `body` for the RPC `method` and returns its status for the wire; a
// call whose deadline passed (call_within_deadline()) is not started.
grpc::Status serve_rpc(const grpc::ServerContext& context, std::string_view method,
                       absl::FunctionRef<absl::Status()> body);

}  // namespace calndro
