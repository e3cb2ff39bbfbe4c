#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>

#include "calndro/notify/v1/notify.grpc.pb.h"

namespace calndro::events {

// The event service's only way to the notification service: every call
// carries the internal credential, the request id and a deadline.
class NotificationClient {
 public:
  NotificationClient(std::shared_ptr<grpc::Channel> channel, std::string internal_token,
                     std::chrono::milliseconds timeout);

  grpc::Status resolve_token(const std::string& token, const std::string& request_id,
                             calndro::notify::v1::ResolveTokenResponse& response);
  grpc::Status queue_notifications(const calndro::notify::v1::QueueNotificationsRequest& request,
                                   const std::string& request_id,
                                   calndro::notify::v1::QueueNotificationsResponse& response);

 private:
  void prepare(grpc::ClientContext& context, const std::string& request_id) const;

  std::unique_ptr<calndro::notify::v1::NotificationService::Stub> stub_;
  const std::string internal_token_;
  const std::chrono::milliseconds timeout_;
};

}  // namespace calndro::events
