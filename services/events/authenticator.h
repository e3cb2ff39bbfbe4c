#pragma once

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>

#include "common/clock.h"
#include "events/access_policy.h"
#include "events/credential_cache.h"
#include "events/email_token_cache.h"
#include "events/event_store.h"
#include "events/notification_client.h"

namespace calndro::events {

// What a call presented, as read from gRPC metadata.
struct Credentials {
  std::optional<std::string> authorization;  // "Basic ..." or "Token ..."
  std::optional<std::string> email_token;
  std::string request_id;
};

// An authenticated caller.
struct Caller {
  enum class Kind { User, EmailToken };
  Kind kind = Kind::User;
  std::int64_t user_id = 0;  // User only
  std::string email;         // the user's, or the party's the token was issued to
  bool staff = false;
  std::int64_t token_event_id = 0;
  std::string token_fingerprint;  // non-secret; goes into log entries

  bool uses_email_token() const { return kind == Kind::EmailToken; }
  // Relation for calls on `event`; nullptr for List/Create.
  Relation relation_to(const EventRecord* event) const;
};

// Turns metadata into a Caller or throws RpcError(UNAUTHENTICATED / UNAVAILABLE).
// Valid Basic or Token credentials win over an email token; bad credentials
// are refused, never treated as anonymous.
class Authenticator {
 public:
  // `token_cache` (optional) remembers resolved email tokens; without it
  // every email-token call asks the notification service.
  Authenticator(const Clock& clock, CredentialCache& cache, NotificationClient& notifications,
                EmailTokenCache* token_cache = nullptr);

  Caller authenticate(pqxx::transaction_base& tx, const Credentials& credentials);

 private:
  Caller from_basic(pqxx::transaction_base& tx, const std::string& encoded);
  Caller from_api_token(pqxx::transaction_base& tx, const std::string& token);
  Caller from_email_token(const std::string& token, const std::string& request_id);

  const Clock& clock_;
  CredentialCache& cache_;
  NotificationClient& notifications_;
  EmailTokenCache* token_cache_;
};

}  // namespace calndro::events
