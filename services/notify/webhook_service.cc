#include "notify/webhook_service.h"

#include <algorithm>

#include "common/base/log.h"
#include "common/base/status_macros.h"
#include "common/crypto/crypto.h"
#include "common/grpc/rich_status.h"
#include "common/rpc/rpc_call.h"
#include "common/text/limits.h"
#include "common/text/proto_time.h"
#include "notify/internal_rpc.h"
#include "notify/notification_service.h"

namespace calndro::notify {
namespace {

constexpr std::size_t kMaxMessageIdLength = 64;
// An event with 100 parties of 254-character addresses and every answer
// given is well under this.
constexpr std::size_t kMaxBodyBytes = 1 << 20;

absl::Status check_messages(const v1::QueueWebhookMessagesRequest& request) {
  std::vector<FieldViolation> violations;
  for (const v1::WebhookMessage& message : request.messages()) {
    if (message.message_id().empty() || message.message_id().size() > kMaxMessageIdLength) {
      violations.push_back({"messages.message_id", "1 to 64 characters."});
    }
    if (message.webhook_id() <= 0 || message.event_id() <= 0 || message.version() <= 0) {
      violations.push_back({"messages", "webhook_id, event_id and version must be positive."});
    }
    if (message.type().empty() || message.body().empty() || message.body().size() > kMaxBodyBytes ||
        !message.has_occurred_at()) {
      violations.push_back({"messages", "type, body (at most 1 MiB) and occurred_at are required."});
    }
  }
  if (!violations.empty()) {
    return invalid_argument(std::move(violations));
  }
  return absl::OkStatus();
}

WebhookMessageRecord message_record(const v1::WebhookMessage& message) {
  return {.message_id = message.message_id(),
          .webhook_id = message.webhook_id(),
          .event_id = message.event_id(),
          .sequence = message.sequence(),
          .type = message.type(),
          .version = message.version(),
          .occurred_at = instant_from_proto(message.occurred_at()),
          .body = message.body()};
}

}  // namespace

WebhookServiceImpl::WebhookServiceImpl(WebhookServiceDeps deps, WebhookServiceSettings settings,
                                       std::function<void()> on_queued)
    : deps_(deps), settings_(std::move(settings)), on_queued_(std::move(on_queued)) {}

grpc::Status WebhookServiceImpl::serve_internal(grpc::ServerContext& context, const char* method, Work work) {
  return serve_rpc(context, method, [&]() -> absl::Status {
    CALNDRO_RETURN_IF_ERROR(check_internal_credential(
        context, settings_.internal_token, {{"method", method}, {"request_id", request_id(context)}}));
    return work();
  });
}

absl::Status WebhookServiceImpl::register_endpoint(const grpc::ServerContext& context,
                                                   const v1::RegisterEndpointRequest& request,
                                                   v1::RegisterEndpointResponse& response) {
  if (request.webhook_id() <= 0) {
    return invalid_argument("webhook_id", "Must be positive.");
  }
  // The same check as every delivery's: a URL that could never be
  // delivered to is refused now, with the reason.
  const absl::StatusOr<Destination> destination =
      check_destination(request.url(), deps_.resolver, settings_.allow);
  if (!destination.ok()) {
    return invalid_argument("url", std::string(destination.status().message()));
  }
  const std::string secret = new_webhook_secret(deps_.random);
  const WebhookEndpoint endpoint{request.webhook_id(), request.url(), deps_.box.seal(secret, deps_.random)};
  bool inserted = false;
  CALNDRO_RETURN_IF_ERROR(
      deps_.database.run(call_context(context), Atomicity::kPerStatement, [&](Transaction& tx) {
        inserted = deps_.store.insert_endpoint(tx, endpoint);
        return absl::OkStatus();
      }));
  if (!inserted) {
    return absl::AlreadyExistsError("This webhook_id has an endpoint already.");
  }
  response.set_secret(secret);
  return absl::OkStatus();
}

absl::Status WebhookServiceImpl::queue(const grpc::ServerContext& context,
                                       const v1::QueueWebhookMessagesRequest& request,
                                       v1::QueueWebhookMessagesResponse& response) {
  CALNDRO_RETURN_IF_ERROR(check_messages(request));
  CALNDRO_RETURN_IF_ERROR(
      deps_.database.run(call_context(context), Atomicity::kTransaction, [&](Transaction& tx) {
        response.Clear();
        for (const v1::WebhookMessage& message : request.messages()) {
          if (deps_.store.endpoint_exists(tx, message.webhook_id())) {
            deps_.store.enqueue_message(tx, message_record(message));
          } else {
            response.add_dropped(message.message_id());  // the webhook was deleted meanwhile
          }
        }
        return absl::OkStatus();
      }));
  if (request.messages_size() > response.dropped_size() && on_queued_) {
    on_queued_();
  }
  return absl::OkStatus();
}

absl::Status WebhookServiceImpl::list(const grpc::ServerContext& context,
                                      const v1::ListWebhookAttemptsRequest& request,
                                      v1::ListWebhookAttemptsResponse& response) {
  std::vector<FieldViolation> violations;
  // The mail list's cursor form, bound to the webhook instead of an event.
  const ListPage page = read_list_page(request.page_size(), request.page_token(), request.webhook_id(),
                                       "Not a page token from a previous call for this webhook.", violations);
  if (!violations.empty()) {
    return invalid_argument(std::move(violations));
  }
  std::vector<WebhookAttemptRow> rows;
  CALNDRO_RETURN_IF_ERROR(
      deps_.database.run(call_context(context), Atomicity::kPerStatement, [&](Transaction& tx) {
        rows = deps_.store.list_attempts(tx, request.webhook_id(), page.before_id, page.size + 1);
        return absl::OkStatus();
      }));
  const bool more = static_cast<int>(rows.size()) > page.size;
  rows.resize(std::min<std::size_t>(rows.size(), page.size));
  for (const WebhookAttemptRow& row : rows) {
    v1::WebhookAttempt& out = *response.add_attempts();
    out.set_webhook_id(row.webhook_id);
    out.set_message_id(row.message_id);
    out.set_type(row.type);
    out.set_version(row.version);
    out.set_attempt(row.attempt);
    *out.mutable_at() = instant_to_proto(row.at);
    if (row.status) {
      out.set_status(*row.status);
    }
    if (row.error) {
      out.set_error(*row.error);
    }
  }
  if (more && !rows.empty()) {
    response.set_next_page_token(encode_page_token(request.webhook_id(), rows.back().id));
  }
  return absl::OkStatus();
}

grpc::Status WebhookServiceImpl::RegisterEndpoint(grpc::ServerContext* context,
                                                  const v1::RegisterEndpointRequest* request,
                                                  v1::RegisterEndpointResponse* response) {
  return serve_internal(*context, "RegisterEndpoint",
                        [&] { return register_endpoint(*context, *request, *response); });
}

grpc::Status WebhookServiceImpl::RemoveEndpoint(grpc::ServerContext* context,
                                                const v1::RemoveEndpointRequest* request,
                                                google::protobuf::Empty*) {
  return serve_internal(*context, "RemoveEndpoint", [&] {
    return deps_.database.run(call_context(*context), Atomicity::kPerStatement, [&](Transaction& tx) {
      deps_.store.remove_endpoint(tx, request->webhook_id());
      return absl::OkStatus();
    });
  });
}

grpc::Status WebhookServiceImpl::QueueWebhookMessages(grpc::ServerContext* context,
                                                      const v1::QueueWebhookMessagesRequest* request,
                                                      v1::QueueWebhookMessagesResponse* response) {
  return serve_internal(*context, "QueueWebhookMessages",
                        [&] { return queue(*context, *request, *response); });
}

grpc::Status WebhookServiceImpl::ListWebhookAttempts(grpc::ServerContext* context,
                                                     const v1::ListWebhookAttemptsRequest* request,
                                                     v1::ListWebhookAttemptsResponse* response) {
  return serve_internal(*context, "ListWebhookAttempts", [&] { return list(*context, *request, *response); });
}

}  // namespace calndro::notify
