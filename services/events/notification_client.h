#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "calndro/notify/v1/notify.grpc.pb.h"

namespace calndro::events {

// The event service's only way to the notification service. A failure
// comes back as the notification service's status (details kept).
class NotificationClient {
 public:
  virtual ~NotificationClient() = default;

  virtual absl::Status resolve_token(const std::string& token, const std::string& request_id,
                                     calndro::notify::v1::ResolveTokenResponse& response) = 0;
  virtual absl::Status queue_notifications(const calndro::notify::v1::QueueNotificationsRequest& request,
                                           const std::string& request_id,
                                           calndro::notify::v1::QueueNotificationsResponse& response) = 0;
};

// NotificationClient over gRPC: every call carries the internal credential,
// the request id and a deadline.
class GrpcNotificationClient final : public NotificationClient {
 public:
  GrpcNotificationClient(std::shared_ptr<grpc::Channel> channel, std::string internal_token,
                         std::chrono::milliseconds timeout);

  absl::Status resolve_token(const std::string& token, const std::string& request_id,
                             calndro::notify::v1::ResolveTokenResponse& response) override;
  absl::Status queue_notifications(const calndro::notify::v1::QueueNotificationsRequest& request,
                                   const std::string& request_id,
                                   calndro::notify::v1::QueueNotificationsResponse& response) override;

 private:
  void prepare(grpc::ClientContext& context, const std::string& request_id) const;

  std::unique_ptr<calndro::notify::v1::NotificationService::Stub> stub_;
  const std::string internal_token_;
  const std::chrono::milliseconds timeout_;
};

}  // namespace calndro::events
