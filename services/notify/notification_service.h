#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "calndro/notify/v1/notify.grpc.pb.h"
#include "common/text/limits.h"
#include "notify/mail_composer.h"
#include "notify/stores.h"

namespace calndro::notify {

inline constexpr const char* kServiceName = "calndro.notify.v1.NotificationService";
// The mails of one request go to the parties of one event.
inline constexpr int kMaxRecipients = limits::kMaxParties;
// 256, not 128: the event service makes "<x-request-id up to 128>/event/<id>".
inline constexpr std::size_t kMaxRequestIdLength = 256;

struct ServiceSettings {
  std::string internal_token;
  // CALNDRO_TOKEN_DAYS, read here; the dispatcher mints the tokens
  // (DispatcherOptions::token_days), QueueNotifications makes none.
  int token_days = 5;
  // Its public_base_url is the base of every link: nothing a caller sends
  // takes part in a link.
  MailSettings mail;
};

// Validation of QueueNotifications, exposed for unit tests: violations by
// field ("request_id", "event_id", "recipients", "sender", "slots",
// "event_title", and for a calendar invitation
// "calendar.method", "calendar.uid", "calendar.sequence", "calendar.slot",
// "calendar.organizer", "calendar.attendees", and for a deadline mail
// deadline_mail.h's) in an INVALID_ARGUMENT; on
// success the normalised request (canonical addresses, duplicates folded).
struct ValidatedQueueRequest {
  std::string request_id;
  MailRequest mail;
  std::vector<std::string> recipients;
  std::string content_hash;
};
absl::StatusOr<ValidatedQueueRequest> validate_queue_request(const v1::QueueNotificationsRequest& request);

// The RPCs. Every call: authorize (metadata x-calndro-internal), validate,
// then one transaction, inside common/rpc/rpc_call.h's serve_rpc (database down
// -> UNAVAILABLE; anything unexpected -> INTERNAL, details only in the log).
class NotificationServiceImpl final : public v1::NotificationService::Service {
 public:
  // `on_queued` runs after mails were queued (the dispatcher's wake-up).
  NotificationServiceImpl(Stores stores, ServiceSettings settings, std::function<void()> on_queued);

  grpc::Status QueueNotifications(grpc::ServerContext* context, const v1::QueueNotificationsRequest* request,
                                  v1::QueueNotificationsResponse* response) override;
  grpc::Status ResolveToken(grpc::ServerContext* context, const v1::ResolveTokenRequest* request,
                            v1::ResolveTokenResponse* response) override;
  grpc::Status ListDeliveries(grpc::ServerContext* context, const v1::ListDeliveriesRequest* request,
                              v1::ListDeliveriesResponse* response) override;

 private:
  struct QueueResult;
  // Serves `method` inside serve_rpc: the caller must hold the internal
  // credential; `work` gets the fields every log line about the call carries.
  using InternalWork = absl::FunctionRef<absl::Status(nlohmann::json& fields)>;
  grpc::Status serve_internal(grpc::ServerContext& context, const char* method, InternalWork work);
  absl::Status queue(const grpc::ServerContext& context, const v1::QueueNotificationsRequest& request,
                     v1::QueueNotificationsResponse& response, nlohmann::json& fields);
  absl::StatusOr<QueueResult> store_request(const CallContext& call, const ValidatedQueueRequest& valid);
  absl::Status resolve(const grpc::ServerContext& context, const v1::ResolveTokenRequest& request,
                       v1::ResolveTokenResponse& response, nlohmann::json& fields);
  absl::Status list(const grpc::ServerContext& context, const v1::ListDeliveriesRequest& request,
                    v1::ListDeliveriesResponse& response);

  Stores stores_;
  const ServiceSettings settings_;
  const std::function<void()> on_queued_;
};

}  // namespace calndro::notify
