#include "events/notification_client.h"

#include "common/grpc/rich_status.h"

namespace calndro::events {

GrpcNotificationClient::GrpcNotificationClient(std::shared_ptr<grpc::Channel> channel,
                                               std::string internal_token, std::chrono::milliseconds timeout)
    : stub_(calndro::notify::v1::NotificationService::NewStub(std::move(channel))),
      internal_token_(std::move(internal_token)),
      timeout_(timeout) {}

void GrpcNotificationClient::prepare(grpc::ClientContext& context, const std::string& request_id) const {
  context.set_deadline(std::chrono::system_clock::now() + timeout_);
  context.AddMetadata("x-calndro-internal", internal_token_);
  if (!request_id.empty()) {
    context.AddMetadata("x-request-id", request_id);
  }
}

absl::Status GrpcNotificationClient::resolve_token(const std::string& token, const std::string& request_id,
                                                   calndro::notify::v1::ResolveTokenResponse& response) {
  grpc::ClientContext context;
  prepare(context, request_id);
  calndro::notify::v1::ResolveTokenRequest request;
  request.set_token(token);
  return from_grpc_status(stub_->ResolveToken(&context, request, &response));
}

absl::Status GrpcNotificationClient::queue_notifications(
    const calndro::notify::v1::QueueNotificationsRequest& request, const std::string& request_id,
    calndro::notify::v1::QueueNotificationsResponse& response) {
  grpc::ClientContext context;
  prepare(context, request_id);
  return from_grpc_status(stub_->QueueNotifications(&context, request, &response));
}

}  // namespace calndro::events
