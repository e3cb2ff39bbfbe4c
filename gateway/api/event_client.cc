#include "gateway/api/event_client.h"

#include <google/protobuf/empty.pb.h>

#include <thread>

#include "common/base/config.h"
#include "common/base/log.h"
#include "common/grpc/grpc_channel.h"

namespace calndro::gateway {

namespace {
constexpr std::chrono::milliseconds kRetryPause{20};
constexpr std::chrono::milliseconds kOpenCallsWait{5000};
// Response initial metadata of an answer replayed for an idempotency key.
constexpr const char* kReplayedMetadata = "x-idempotent-replayed";
}  // namespace

CallFailure classify_failure(const grpc::Status& status) {
  if (status.error_code() != grpc::StatusCode::UNAVAILABLE) {
    return CallFailure::kNone;
  }
  const std::string& message = status.error_message();
  const auto starts_with = [&message](std::string_view prefix) { return message.rfind(prefix, 0) == 0; };
  // Picked before any connection carried the call (gRPC's load balancing).
  for (std::string_view prefix : {"failed to connect to all addresses", "connections to all backends failing",
                                  "empty address list", "no children in weighted_target",
                                  "DNS resolution failed", "Name resolution failure", "Connection refused"}) {
    if (starts_with(prefix)) {
      return CallFailure::kNotSent;
    }
  }
  // The connection went away under the call (chttp2's texts).
  for (std::string_view prefix :
       {"Socket closed", "Connection reset", "Broken pipe", "GOAWAY", "Stream removed", "Transport closed",
        "Endpoint read failed", "keepalive watchdog timeout", "Cancelling all calls"}) {
    if (starts_with(prefix)) {
      return CallFailure::kMaybeSent;
    }
  }
  return CallFailure::kNone;
}

OpenCalls::Ticket::Ticket(OpenCalls& calls) : calls_(calls) {
  std::lock_guard lock(calls_.mutex_);
  ++calls_.open_;
}

OpenCalls::Ticket::~Ticket() {
  std::lock_guard lock(calls_.mutex_);
  if (--calls_.open_ == 0) {
    calls_.none_.notify_all();
  }
}

bool OpenCalls::wait_until_none(std::chrono::milliseconds limit) {
  std::unique_lock lock(mutex_);
  return none_.wait_for(lock, limit, [this] { return open_ == 0; });
}

EventClient::~EventClient() {
  // Every stream is cancelled by then (the server's stop); their ends come at once.
  if (!open_calls_.wait_until_none(kOpenCallsWait)) {
    log::warn("event client: calls still open at exit");
  }
}

EventClient::EventClient(std::shared_ptr<grpc::Channel> channel, std::chrono::milliseconds timeout,
                         std::string internal_token)
    : channel_(std::move(channel)),
      stub_(v1::EventService::NewStub(channel_)),
      timeout_(timeout),
      internal_token_(std::move(internal_token)) {}

std::unique_ptr<EventClient> EventClient::connect(const std::string& address,
                                                  std::chrono::milliseconds timeout,
                                                  std::string internal_token) {
  return std::make_unique<EventClient>(make_balanced_channel(address), timeout, std::move(internal_token));
}

void EventClient::prepare(grpc::ClientContext& context, const CallMetadata& meta,
                          std::chrono::system_clock::time_point deadline) const {
  context.set_deadline(deadline);
  if (!meta.authorization.empty()) {
    context.AddMetadata("authorization", meta.authorization);
  }
  if (!meta.email_token.empty()) {
    context.AddMetadata("x-email-token", meta.email_token);
  }
  if (!meta.request_id.empty()) {
    context.AddMetadata("x-request-id", meta.request_id);
  }
  if (!meta.client_address.empty()) {
    context.AddMetadata("x-calndro-client-addr", meta.client_address);
  }
  if (!internal_token_.empty()) {
    context.AddMetadata(config::kInternalCredentialMetadata, internal_token_);
  }
}

template <typename Call>
grpc::Status EventClient::with_retry(const CallMetadata& meta, bool repeatable, Call call) const {
  // The retry shares the first attempt's deadline.
  const auto deadline = std::chrono::system_clock::now() + timeout_;
  grpc::Status status;
  CallFailure failure = CallFailure::kNone;
  for (int attempt = 0; attempt < 2; ++attempt) {
    grpc::ClientContext context;
    prepare(context, meta, deadline);
    if (attempt > 0 && failure == CallFailure::kMaybeSent) {
      // The channel learns that its connection is gone a moment after the
      // call that found out: a retry at once could take the same dead
      // connection. Then wait for the reconnection (within the deadline).
      // A call that found no connection at all is retried at once and
      // fails fast again when the service is down.
      std::this_thread::sleep_for(kRetryPause);
      context.set_wait_for_ready(true);
    }
    status = call(context);
    failure = classify_failure(status);
    if (failure == CallFailure::kNone || (failure == CallFailure::kMaybeSent && !repeatable)) {
      break;
    }
  }
  return status;
}

template <typename Request, typename Response>
grpc::Status EventClient::unary(const CallMetadata& meta, bool repeatable,
                                grpc::Status (v1::EventService::Stub::*method)(grpc::ClientContext*,
                                                                               const Request&, Response*),
                                const Request& request, Response* response, CallInfo* info) const {
  return with_retry(meta, repeatable, [&](grpc::ClientContext& context) {
    grpc::Status status = (stub_.get()->*method)(&context, request, response);
    if (info != nullptr) {
      const auto& initial = context.GetServerInitialMetadata();
      const auto replayed = initial.find(kReplayedMetadata);
      info->replayed = status.ok() && replayed != initial.end() && replayed->second == "true";
    }
    return status;
  });
}

// Reads may be sent again after a broken connection; a write may have run,
// unless it carries an idempotency key: then a repeat only replays.
constexpr bool kRead = true;
constexpr bool kWrite = false;

template <typename Request>
bool idempotent(const Request& request) {
  return !request.request_id().empty();
}

grpc::Status EventClient::list_events(const CallMetadata& meta, const v1::ListEventsRequest& request,
                                      v1::ListEventsResponse* response) {
  return unary(meta, kRead, &v1::EventService::Stub::ListEvents, request, response);
}

grpc::Status EventClient::create_event(const CallMetadata& meta, const v1::CreateEventRequest& request,
                                       v1::Event* response, CallInfo* info) {
  return unary(meta, idempotent(request), &v1::EventService::Stub::CreateEvent, request, response, info);
}

grpc::Status EventClient::get_event(const CallMetadata& meta, const v1::GetEventRequest& request,
                                    v1::Event* response) {
  return unary(meta, kRead, &v1::EventService::Stub::GetEvent, request, response);
}

grpc::Status EventClient::get_event_calendar(const CallMetadata& meta,
                                             const v1::GetEventCalendarRequest& request,
                                             v1::EventCalendar* response) {
  return unary(meta, kRead, &v1::EventService::Stub::GetEventCalendar, request, response);
}

grpc::Status EventClient::update_event(const CallMetadata& meta, const v1::UpdateEventRequest& request,
                                       v1::Event* response) {
  return unary(meta, kWrite, &v1::EventService::Stub::UpdateEvent, request, response);
}

grpc::Status EventClient::delete_event(const CallMetadata& meta, const v1::DeleteEventRequest& request) {
  google::protobuf::Empty response;
  return unary(meta, kWrite, &v1::EventService::Stub::DeleteEvent, request, &response);
}

grpc::Status EventClient::notify_parties(const CallMetadata& meta, const v1::NotifyPartiesRequest& request,
                                         v1::NotifyPartiesResponse* response, CallInfo* info) {
  return unary(meta, idempotent(request), &v1::EventService::Stub::NotifyParties, request, response, info);
}

grpc::Status EventClient::get_event_log(const CallMetadata& meta, const v1::GetEventLogRequest& request,
                                        v1::EventLog* response) {
  return unary(meta, kRead, &v1::EventService::Stub::GetEventLog, request, response);
}

grpc::Status EventClient::agree_event(const CallMetadata& meta, const v1::AgreeEventRequest& request,
                                      v1::Event* response, CallInfo* info) {
  return unary(meta, idempotent(request), &v1::EventService::Stub::AgreeEvent, request, response, info);
}

grpc::Status EventClient::reopen_event(const CallMetadata& meta, const v1::ReopenEventRequest& request,
                                       v1::Event* response) {
  return unary(meta, kWrite, &v1::EventService::Stub::ReopenEvent, request, response);
}

grpc::Status EventClient::answer_slots(const CallMetadata& meta, const v1::AnswerSlotsRequest& request,
                                       v1::Event* response) {
  return unary(meta, !request.has_expected_version(), &v1::EventService::Stub::AnswerSlots, request,
               response);
}

grpc::Status EventClient::create_api_token(const CallMetadata& meta, const v1::CreateApiTokenRequest& request,
                                           v1::CreateApiTokenResponse* response) {
  return unary(meta, kWrite, &v1::EventService::Stub::CreateApiToken, request, response);
}

grpc::Status EventClient::revoke_api_token(const CallMetadata& meta,
                                           const v1::RevokeApiTokenRequest& request) {
  google::protobuf::Empty response;
  return unary(meta, kWrite, &v1::EventService::Stub::RevokeApiToken, request, &response);
}

grpc::Status EventClient::get_log_key(const CallMetadata& meta, v1::LogKey* response) {
  return unary(meta, kRead, &v1::EventService::Stub::GetLogKey, v1::GetLogKeyRequest(), response);
}

grpc::Status EventClient::create_webhook(const CallMetadata& meta, const v1::CreateWebhookRequest& request,
                                         v1::Webhook* response) {
  return unary(meta, kWrite, &v1::EventService::Stub::CreateWebhook, request, response);
}

grpc::Status EventClient::list_webhooks(const CallMetadata& meta, const v1::ListWebhooksRequest& request,
                                        v1::ListWebhooksResponse* response) {
  return unary(meta, kRead, &v1::EventService::Stub::ListWebhooks, request, response);
}

grpc::Status EventClient::delete_webhook(const CallMetadata& meta, const v1::DeleteWebhookRequest& request) {
  google::protobuf::Empty response;
  return unary(meta, kWrite, &v1::EventService::Stub::DeleteWebhook, request, &response);
}

grpc::Status EventClient::list_webhook_deliveries(const CallMetadata& meta,
                                                  const v1::ListWebhookDeliveriesRequest& request,
                                                  v1::ListWebhookDeliveriesResponse* response) {
  return unary(meta, kRead, &v1::EventService::Stub::ListWebhookDeliveries, request, response);
}

void EventClient::watch_event(grpc::ClientContext& context, const CallMetadata& meta,
                              const v1::WatchEventRequest& request,
                              grpc::ClientReadReactor<v1::EventChange>* reactor, WaitForReady wait) {
  prepare(context, meta, std::chrono::system_clock::time_point::max());
  context.set_wait_for_ready(wait == WaitForReady::kYes);
  stub_->async()->WatchEvent(&context, &request, reactor);
}

}  // namespace calndro::gateway
