#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "calndro/notify/v1/webhooks.grpc.pb.h"

namespace calndro::events {

// The event service's way to the notification service's webhook side
// (calndro.notify.v1.WebhookService): endpoints (URL and secret) and the
// delivery outbox. A failure comes back as that service's status (details
// kept: an INVALID_ARGUMENT on "url" reaches the caller as it is).
class WebhookEndpoints {
 public:
  virtual ~WebhookEndpoints() = default;

  // The new endpoint's secret.
  virtual absl::StatusOr<std::string> register_endpoint(std::int64_t webhook_id, const std::string& url,
                                                        const std::string& request_id) = 0;
  virtual absl::Status remove_endpoint(std::int64_t webhook_id, const std::string& request_id) = 0;
  virtual absl::Status queue_messages(const calndro::notify::v1::QueueWebhookMessagesRequest& request,
                                      calndro::notify::v1::QueueWebhookMessagesResponse& response) = 0;
  virtual absl::Status list_attempts(const calndro::notify::v1::ListWebhookAttemptsRequest& request,
                                     const std::string& request_id,
                                     calndro::notify::v1::ListWebhookAttemptsResponse& response) = 0;
};

// WebhookEndpoints over gRPC: every call carries the internal credential,
// the request id and a deadline.
class GrpcWebhookEndpoints final : public WebhookEndpoints {
 public:
  GrpcWebhookEndpoints(const std::shared_ptr<grpc::Channel>& channel, std::string internal_token,
                       std::chrono::milliseconds timeout);

  absl::StatusOr<std::string> register_endpoint(std::int64_t webhook_id, const std::string& url,
                                                const std::string& request_id) override;
  absl::Status remove_endpoint(std::int64_t webhook_id, const std::string& request_id) override;
  absl::Status queue_messages(const calndro::notify::v1::QueueWebhookMessagesRequest& request,
                              calndro::notify::v1::QueueWebhookMessagesResponse& response) override;
  absl::Status list_attempts(const calndro::notify::v1::ListWebhookAttemptsRequest& request,
                             const std::string& request_id,
                             calndro::notify::v1::ListWebhookAttemptsResponse& response) override;

 private:
  void prepare(grpc::ClientContext& context, const std::string& request_id) const;

  std::unique_ptr<calndro::notify::v1::WebhookService::Stub> stub_;
  const std::string internal_token_;
  const std::chrono::milliseconds timeout_;
};

}  // namespace calndro::events
