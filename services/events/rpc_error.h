#pragma once

#include <grpcpp/support/status.h>

#include <stdexcept>

#include "absl/status/status.h"
#include "common/rich_status.h"

namespace calndro::events {

// Thrown anywhere below an RPC handler to end the call with `status`; the
// transaction in progress rolls back, so a refused call changes nothing.
class RpcError : public std::runtime_error {
 public:
  explicit RpcError(grpc::Status status)
      : std::runtime_error(status.error_message()), status_(std::move(status)) {}
  explicit RpcError(const absl::Status& status) : RpcError(to_grpc_status(status)) {}
  RpcError(grpc::StatusCode code, const std::string& message) : RpcError(grpc::Status(code, message)) {}
  const grpc::Status& status() const { return status_; }

 private:
  grpc::Status status_;
};

}  // namespace calndro::events
