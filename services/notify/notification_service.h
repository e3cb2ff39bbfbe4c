#pragma once

#include <functional>
#include <string>

#include "calndro/notify/v1/notify.grpc.pb.h"
#include "common/allowed_hosts.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/db_pool.h"
#include "notify/mail_composer.h"

namespace calndro::notify {

inline constexpr const char* kServiceName = "calndro.notify.v1.NotificationService";
inline constexpr int kMaxRecipients = 100;
inline constexpr int kMaxSlots = 30;
// 256, not 128: the event service makes "<x-request-id up to 128>/event/<id>".
inline constexpr std::size_t kMaxRequestIdLength = 256;
inline constexpr std::size_t kMaxTitleLength = 256;  // characters (code points)
inline constexpr int kDefaultPageSize = 100;
inline constexpr int kMaxPageSize = 1000;

struct ServiceSettings {
  std::string internal_token;
  // CALNDRO_TOKEN_DAYS, read here; the dispatcher mints the tokens
  // (DispatcherOptions::token_days), QueueNotifications makes none.
  int token_days = 5;
  MailSettings mail;
  // CALNDRO_ALLOWED_HOSTS (with the public base URL's host): the only hosts
  // a caller's link_base_url may name.
  AllowedHosts allowed_hosts = AllowedHosts::parse("", "");
};

// The RPCs. Every call: authorize (metadata x-calndro-internal), validate,
// then one transaction. DatabaseUnavailable -> UNAVAILABLE; anything
// unexpected -> INTERNAL with a generic message (the details go to the log).
class NotificationServiceImpl final : public v1::NotificationService::Service {
 public:
  NotificationServiceImpl(DbPool& pool, ServiceSettings settings, std::function<void()> on_queued);

  grpc::Status QueueNotifications(grpc::ServerContext* context, const v1::QueueNotificationsRequest* request,
                                  v1::QueueNotificationsResponse* response) override;
  grpc::Status ResolveToken(grpc::ServerContext* context, const v1::ResolveTokenRequest* request,
                            v1::ResolveTokenResponse* response) override;
  grpc::Status ListDeliveries(grpc::ServerContext* context, const v1::ListDeliveriesRequest* request,
                              v1::ListDeliveriesResponse* response) override;

 private:
  grpc::Status authorize(const grpc::ServerContext& context) const;

  DbPool& pool_;
  const ServiceSettings settings_;
  const std::function<void()> on_queued_;
};

// Validation of QueueNotifications, exposed for unit tests: violations by
// field ("request_id", "event_id", "recipients", "sender", "slots",
// "event_title", "link_base_url"); on success `out` holds the normalised
// request (canonical addresses, duplicates folded).
struct ValidatedQueueRequest {
  std::string request_id;
  MailRequest mail;
  std::vector<std::string> recipients;
  std::string content_hash;
};
grpc::Status validate_queue_request(const v1::QueueNotificationsRequest& request, ValidatedQueueRequest& out);

// The base of the links in a request's mails: the public base URL when one
// is configured; else the caller's link_base_url when its host is allowed;
// else kFallbackLinkBase. A link carries a live token, so a base nobody
// configured (a party's forged Host, a direct gRPC caller) is never used;
// `refused` tells the caller to log it.
std::string trusted_link_base(const MailSettings& mail, const AllowedHosts& allowed,
                              std::string_view request_base, bool& refused);

// Opaque ListDeliveries cursor.
std::string encode_page_token(std::int64_t event_id, std::int64_t last_id);
bool decode_page_token(const std::string& token, std::int64_t event_id, std::int64_t& last_id);

}  // namespace calndro::notify
