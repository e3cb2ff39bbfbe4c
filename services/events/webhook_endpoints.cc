#include "events/webhook_endpoints.h"

#include "common/grpc/rich_status.h"

namespace calndro::events {

namespace notify_v1 = calndro::notify::v1;

GrpcWebhookEndpoints::GrpcWebhookEndpoints(const std::shared_ptr<grpc::Channel>& channel,
                                           std::string internal_token, std::chrono::milliseconds timeout)
    : stub_(notify_v1::WebhookService::NewStub(channel)),
      internal_token_(std::move(internal_token)),
      timeout_(timeout) {}

void GrpcWebhookEndpoints::prepare(grpc::ClientContext& context, const std::string& request_id) const {
  context.set_deadline(std::chrono::system_clock::now() + timeout_);
  context.AddMetadata("x-calndro-internal", internal_token_);
  if (!request_id.empty()) {
    context.AddMetadata("x-request-id", request_id);
  }
}

absl::StatusOr<std::string> GrpcWebhookEndpoints::register_endpoint(std::int64_t webhook_id,
                                                                    const std::string& url,
                                                                    const std::string& request_id) {
  grpc::ClientContext context;
  prepare(context, request_id);
  notify_v1::RegisterEndpointRequest request;
  request.set_webhook_id(webhook_id);
  request.set_url(url);
  notify_v1::RegisterEndpointResponse response;
  const absl::Status status = from_grpc_status(stub_->RegisterEndpoint(&context, request, &response));
  if (!status.ok()) {
    return status;
  }
  return response.secret();
}

absl::Status GrpcWebhookEndpoints::remove_endpoint(std::int64_t webhook_id, const std::string& request_id) {
  grpc::ClientContext context;
  prepare(context, request_id);
  notify_v1::RemoveEndpointRequest request;
  request.set_webhook_id(webhook_id);
  google::protobuf::Empty response;
  return from_grpc_status(stub_->RemoveEndpoint(&context, request, &response));
}

absl::Status GrpcWebhookEndpoints::queue_messages(const notify_v1::QueueWebhookMessagesRequest& request,
                                                  notify_v1::QueueWebhookMessagesResponse& response) {
  grpc::ClientContext context;
  prepare(context, "");
  return from_grpc_status(stub_->QueueWebhookMessages(&context, request, &response));
}

absl::Status GrpcWebhookEndpoints::list_attempts(const notify_v1::ListWebhookAttemptsRequest& request,
                                                 const std::string& request_id,
                                                 notify_v1::ListWebhookAttemptsResponse& response) {
  grpc::ClientContext context;
  prepare(context, request_id);
  return from_grpc_status(stub_->ListWebhookAttempts(&context, request, &response));
}

}  // namespace calndro::events
