#include "gateway/event_client.h"

#include <google/protobuf/empty.pb.h>

#include "common/grpc_channel.h"

namespace calndro::gateway {

EventClient::EventClient(std::shared_ptr<grpc::Channel> channel, std::chrono::milliseconds timeout)
    : channel_(std::move(channel)), stub_(v1::EventService::NewStub(channel_)), timeout_(timeout) {}

std::unique_ptr<EventClient> EventClient::connect(const std::string& address, std::chrono::milliseconds timeout) {
  return std::make_unique<EventClient>(make_balanced_channel(address), timeout);
}

void EventClient::prepare(grpc::ClientContext& context, const CallMetadata& meta) const {
  context.set_deadline(std::chrono::system_clock::now() + timeout_);
  if (!meta.authorization.empty()) {
    context.AddMetadata("authorization", meta.authorization);
  }
  if (!meta.email_token.empty()) {
    context.AddMetadata("x-email-token", meta.email_token);
  }
  if (!meta.request_id.empty()) {
    context.AddMetadata("x-request-id", meta.request_id);
  }
}

grpc::Status EventClient::list_events(const CallMetadata& meta, const v1::ListEventsRequest& request,
                                      v1::ListEventsResponse* response) {
  grpc::ClientContext context;
  prepare(context, meta);
  return stub_->ListEvents(&context, request, response);
}

grpc::Status EventClient::create_event(const CallMetadata& meta, const v1::CreateEventRequest& request,
                                       v1::Event* response) {
  grpc::ClientContext context;
  prepare(context, meta);
  return stub_->CreateEvent(&context, request, response);
}

grpc::Status EventClient::get_event(const CallMetadata& meta, const v1::GetEventRequest& request,
                                    v1::Event* response) {
  grpc::ClientContext context;
  prepare(context, meta);
  return stub_->GetEvent(&context, request, response);
}

grpc::Status EventClient::update_event(const CallMetadata& meta, const v1::UpdateEventRequest& request,
                                       v1::Event* response) {
  grpc::ClientContext context;
  prepare(context, meta);
  return stub_->UpdateEvent(&context, request, response);
}

grpc::Status EventClient::delete_event(const CallMetadata& meta, const v1::DeleteEventRequest& request) {
  grpc::ClientContext context;
  prepare(context, meta);
  google::protobuf::Empty response;
  return stub_->DeleteEvent(&context, request, &response);
}

grpc::Status EventClient::notify_parties(const CallMetadata& meta, const v1::NotifyPartiesRequest& request,
                                         v1::NotifyPartiesResponse* response) {
  grpc::ClientContext context;
  prepare(context, meta);
  return stub_->NotifyParties(&context, request, response);
}

grpc::Status EventClient::get_event_log(const CallMetadata& meta, const v1::GetEventLogRequest& request,
                                        v1::EventLog* response) {
  grpc::ClientContext context;
  prepare(context, meta);
  return stub_->GetEventLog(&context, request, response);
}

grpc::Status EventClient::create_api_token(const CallMetadata& meta, const v1::CreateApiTokenRequest& request,
                                           v1::CreateApiTokenResponse* response) {
  grpc::ClientContext context;
  prepare(context, meta);
  return stub_->CreateApiToken(&context, request, response);
}

grpc::Status EventClient::revoke_api_token(const CallMetadata& meta, const v1::RevokeApiTokenRequest& request) {
  grpc::ClientContext context;
  prepare(context, meta);
  google::protobuf::Empty response;
  return stub_->RevokeApiToken(&context, request, &response);
}

}  // namespace calndro::gateway
