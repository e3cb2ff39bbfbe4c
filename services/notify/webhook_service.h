#pragma once

#include <functional>
#include <string>

#include "absl/functional/function_ref.h"
#include "calndro/notify/v1/webhooks.grpc.pb.h"
#include "common/crypto/crypto.h"
#include "notify/stores.h"
#include "notify/webhook_address.h"
#include "notify/webhook_crypto.h"
#include "notify/webhook_store.h"

namespace calndro::notify {

inline constexpr const char* kWebhookServiceName = "calndro.notify.v1.WebhookService";

struct WebhookServiceSettings {
  std::string internal_token;
  AddressAllowList allow;  // CALNDRO_WEBHOOK_ALLOW
};

// What the RPCs need, wired by main.cc.
struct WebhookServiceDeps {
  Database& database;
  WebhookStore& store;
  const SecretBox& box;
  RandomSource& random;
  Resolver& resolver;
};

// calndro.notify.v1.WebhookService: the event service's way to the
// endpoints and the delivery outbox. Every call: the internal credential,
// validation, one transaction, inside serve_rpc.
class WebhookServiceImpl final : public v1::WebhookService::Service {
 public:
  // `on_queued` runs after messages were queued (the dispatcher's wake-up).
  WebhookServiceImpl(WebhookServiceDeps deps, WebhookServiceSettings settings,
                     std::function<void()> on_queued);

  grpc::Status RegisterEndpoint(grpc::ServerContext* context, const v1::RegisterEndpointRequest* request,
                                v1::RegisterEndpointResponse* response) override;
  grpc::Status RemoveEndpoint(grpc::ServerContext* context, const v1::RemoveEndpointRequest* request,
                              google::protobuf::Empty* response) override;
  grpc::Status QueueWebhookMessages(grpc::ServerContext* context,
                                    const v1::QueueWebhookMessagesRequest* request,
                                    v1::QueueWebhookMessagesResponse* response) override;
  grpc::Status ListWebhookAttempts(grpc::ServerContext* context,
                                   const v1::ListWebhookAttemptsRequest* request,
                                   v1::ListWebhookAttemptsResponse* response) override;

 private:
  using Work = absl::FunctionRef<absl::Status()>;
  grpc::Status serve_internal(grpc::ServerContext& context, const char* method, Work work);
  absl::Status register_endpoint(const grpc::ServerContext& context,
                                 const v1::RegisterEndpointRequest& request,
                                 v1::RegisterEndpointResponse& response);
  absl::Status queue(const grpc::ServerContext& context, const v1::QueueWebhookMessagesRequest& request,
                     v1::QueueWebhookMessagesResponse& response);
  absl::Status list(const grpc::ServerContext& context, const v1::ListWebhookAttemptsRequest& request,
                    v1::ListWebhookAttemptsResponse& response);

  WebhookServiceDeps deps_;
  const WebhookServiceSettings settings_;
  const std::function<void()> on_queued_;
};

}  // namespace calndro::notify
