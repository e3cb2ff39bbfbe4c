// The webhook RPCs (SPEC §11, docs/WEBHOOKS.md): CreateWebhook,
// ListWebhooks, DeleteWebhook and ListWebhookDeliveries. This service owns
// the webhooks (who, which types) and every decision on them; the
// notification service keeps each webhook's URL check, secret and delivery
// log (webhook_endpoints.h). No database connection is held while it is
// called.
#include <algorithm>
#include <array>
#include <string_view>

#include "common/base/status_macros.h"
#include "common/grpc/rich_status.h"
#include "common/rpc/rpc_call.h"
#include "common/text/proto_time.h"
#include "events/event_checks.h"
#include "events/event_service.h"
#include "events/paging.h"

namespace calndro::events {
namespace {

namespace notify_v1 = calndro::notify::v1;

// SPEC §11's types, in the order a webhook lists them.
constexpr std::array<std::string_view, 7> kWebhookTypes = {
    "event.created", "event.updated",  "event.answered", "event.notified",
    "event.agreed",  "event.reopened", "event.deleted"};
// Each webhook of a user gets a copy of each occurrence: a bound on the fan-out of one write.
constexpr int kMaxWebhooksPerUser = 10;
constexpr std::size_t kMaxUrlLength = 2048;

// The types asked for, in kWebhookTypes' order, duplicates folded; all of
// them when none is named.
absl::StatusOr<std::vector<std::string>> read_types(
    const google::protobuf::RepeatedPtrField<std::string>& asked) {
  std::vector<std::string> types;
  for (const std::string_view type : kWebhookTypes) {
    if (asked.empty() || std::find(asked.begin(), asked.end(), type) != asked.end()) {
      types.emplace_back(type);
    }
  }
  for (const std::string& type : asked) {
    if (std::find(kWebhookTypes.begin(), kWebhookTypes.end(), type) == kWebhookTypes.end()) {
      return invalid_argument("types", "Unknown type '" + type.substr(0, 64) +
                                           "'; one of event.created, event.updated, event.answered, "
                                           "event.notified, event.agreed, event.reopened, event.deleted.");
    }
  }
  return types;
}

absl::Status require_registered(const Caller& caller) {
  if (caller.uses_email_token()) {
    return absl::PermissionDeniedError(kForbidden);
  }
  return absl::OkStatus();
}

void webhook_to_proto(const WebhookRecord& webhook, v1::Webhook& out) {
  out.set_id(webhook.id);
  out.set_url(webhook.url);
  for (const std::string& type : webhook.types) {
    out.add_types(type);
  }
  *out.mutable_created_at() = instant_to_proto(webhook.created_at);
}

void attempt_to_proto(const notify_v1::WebhookAttempt& attempt, v1::WebhookDelivery& out) {
  out.set_webhook_id(attempt.webhook_id());
  out.set_message_id(attempt.message_id());
  out.set_type(attempt.type());
  out.set_version(attempt.version());
  out.set_attempt(attempt.attempt());
  *out.mutable_at() = attempt.at();
  if (attempt.has_status()) {
    out.set_status(attempt.status());
  }
  if (attempt.has_error()) {
    out.set_error(attempt.error());
  }
}

absl::Status endpoints_missing() {
  return absl::UnavailableError("Webhooks are not available: no notification service is configured.");
}

}  // namespace

absl::StatusOr<WebhookRecord> EventServiceImpl::plan_webhook(grpc::ServerContext& context,
                                                             const v1::CreateWebhookRequest& request) {
  WebhookRecord webhook;
  CALNDRO_RETURN_IF_ERROR(authenticator_.run_as_caller(
      call_context(context), read_credentials(context), Atomicity::kPerStatement,
      [&](Repositories& stores, const Caller& caller) -> absl::Status {
        CALNDRO_RETURN_IF_ERROR(require_registered(caller));
        CALNDRO_ASSIGN_OR_RETURN(webhook.types, read_types(request.types()));
        if (request.url().empty() || request.url().size() > kMaxUrlLength) {
          return invalid_argument(
              "url", "A URL of 1 to " + std::to_string(kMaxUrlLength) + " characters is required.");
        }
        if (stores.webhooks.count_webhooks(caller.user_id) >= kMaxWebhooksPerUser) {
          return absl::FailedPreconditionError("At most " + std::to_string(kMaxWebhooksPerUser) +
                                               " webhooks per user; delete one first.");
        }
        webhook.id = stores.webhooks.next_webhook_id();
        webhook.user_id = caller.user_id;
        return absl::OkStatus();
      }));
  webhook.url = request.url();
  webhook.created_at = clock_.now();
  return webhook;
}

grpc::Status EventServiceImpl::CreateWebhook(grpc::ServerContext* context,
                                             const v1::CreateWebhookRequest* request, v1::Webhook* response) {
  return serve_rpc(*context, "CreateWebhook", [&]() -> absl::Status {
    WebhookEndpoints* endpoints = options_.webhook_endpoints;
    if (endpoints == nullptr) {
      return endpoints_missing();
    }
    CALNDRO_ASSIGN_OR_RETURN(const WebhookRecord webhook, plan_webhook(*context, *request));
    // The endpoint first (it checks the URL and makes the secret): a
    // webhook row exists only with its endpoint. Should storing the row
    // fail, the endpoint is taken back; one left behind by a crash in
    // between is never named by an occurrence, so it receives nothing.
    const std::string trace = calndro::request_id(*context);
    CALNDRO_ASSIGN_OR_RETURN(const std::string secret,
                             endpoints->register_endpoint(webhook.id, webhook.url, trace));
    absl::Status stored =
        database_.run(call_context(*context), Atomicity::kPerStatement, [&](Repositories& stores) {
          stores.webhooks.insert_webhook(webhook);
          return absl::OkStatus();
        });
    if (!stored.ok()) {
      endpoints->remove_endpoint(webhook.id, trace).IgnoreError();  // best effort: an orphan is inert
      return stored;
    }
    webhook_to_proto(webhook, *response);
    response->set_secret(secret);
    return absl::OkStatus();
  });
}

grpc::Status EventServiceImpl::ListWebhooks(grpc::ServerContext* context,
                                            const v1::ListWebhooksRequest* request,
                                            v1::ListWebhooksResponse* response) {
  return serve_as_caller(context, "ListWebhooks", Atomicity::kPerStatement,
                         [&](Repositories& stores, const Caller& caller) -> absl::Status {
                           CALNDRO_RETURN_IF_ERROR(require_registered(caller));
                           CALNDRO_ASSIGN_OR_RETURN(
                               const PageRequest page,
                               read_page_request(request->page_size(), request->page_token()));
                           std::vector<WebhookRecord> webhooks =
                               stores.webhooks.list_webhooks(caller.user_id, page.after, page.limit);
                           response->Clear();
                           const bool more = static_cast<int>(webhooks.size()) > page.limit;
                           webhooks.resize(std::min<std::size_t>(webhooks.size(), page.limit));
                           for (const WebhookRecord& webhook : webhooks) {
                             webhook_to_proto(webhook, *response->add_webhooks());
                           }
                           if (more) {
                             response->set_next_page_token(std::to_string(webhooks.back().id));
                           }
                           return absl::OkStatus();
                         });
}

absl::StatusOr<WebhookRecord> EventServiceImpl::owned_webhook(grpc::ServerContext& context, std::int64_t id) {
  std::optional<WebhookRecord> found;
  CALNDRO_RETURN_IF_ERROR(
      authenticator_.run_as_caller(call_context(context), read_credentials(context), Atomicity::kPerStatement,
                                   [&](Repositories& stores, const Caller& caller) -> absl::Status {
                                     CALNDRO_RETURN_IF_ERROR(require_registered(caller));
                                     // Another user's webhook is not there for the caller (staff
                                     // included): its existence is its owner's business.
                                     found = id > 0 ? stores.webhooks.find_webhook(id) : std::nullopt;
                                     if (!found || found->user_id != caller.user_id) {
                                       return absl::NotFoundError(kNotFound);
                                     }
                                     return absl::OkStatus();
                                   }));
  return *std::move(found);
}

grpc::Status EventServiceImpl::DeleteWebhook(grpc::ServerContext* context,
                                             const v1::DeleteWebhookRequest* request,
                                             google::protobuf::Empty* response) {
  return serve_rpc(*context, "DeleteWebhook", [&]() -> absl::Status {
    WebhookEndpoints* endpoints = options_.webhook_endpoints;
    if (endpoints == nullptr) {
      return endpoints_missing();
    }
    CALNDRO_ASSIGN_OR_RETURN(const WebhookRecord webhook, owned_webhook(*context, request->id()));
    // The endpoint first: once it is gone nothing more is delivered, and a
    // crash before the row's deletion leaves a webhook that a repeated
    // DELETE removes (messages handed over meanwhile are dropped).
    CALNDRO_RETURN_IF_ERROR(endpoints->remove_endpoint(webhook.id, calndro::request_id(*context)));
    CALNDRO_RETURN_IF_ERROR(
        database_.run(call_context(*context), Atomicity::kPerStatement, [&](Repositories& stores) {
          stores.webhooks.delete_webhook(webhook.id);
          return absl::OkStatus();
        }));
    response->Clear();
    return absl::OkStatus();
  });
}

grpc::Status EventServiceImpl::ListWebhookDeliveries(grpc::ServerContext* context,
                                                     const v1::ListWebhookDeliveriesRequest* request,
                                                     v1::ListWebhookDeliveriesResponse* response) {
  return serve_rpc(*context, "ListWebhookDeliveries", [&]() -> absl::Status {
    WebhookEndpoints* endpoints = options_.webhook_endpoints;
    if (endpoints == nullptr) {
      return endpoints_missing();
    }
    CALNDRO_ASSIGN_OR_RETURN(const WebhookRecord webhook, owned_webhook(*context, request->webhook_id()));
    notify_v1::ListWebhookAttemptsRequest list;
    list.set_webhook_id(webhook.id);
    list.set_page_size(request->page_size());
    list.set_page_token(request->page_token());
    notify_v1::ListWebhookAttemptsResponse attempts;
    CALNDRO_RETURN_IF_ERROR(endpoints->list_attempts(list, calndro::request_id(*context), attempts));
    response->Clear();
    for (const notify_v1::WebhookAttempt& attempt : attempts.attempts()) {
      attempt_to_proto(attempt, *response->add_deliveries());
    }
    response->set_next_page_token(attempts.next_page_token());
    return absl::OkStatus();
  });
}

}  // namespace calndro::events
