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
#include "events/login_throttle.h"
#include "events/notification_client.h"
#include "events/user_store.h"

namespace calndro::events {

// What a call presented, as read from gRPC metadata.
struct Credentials {
  std::optional<std::string> authorization;  // "Basic ..." or "Token ..."
  std::optional<std::string> email_token;
  std::string request_id;
  // The caller's address as the login throttle keys it: from
  // `x-calndro-client-addr` (set by the gateway), else the gRPC peer.
  std::string client_address;
};

// A login and password: decoded Basic credentials, or CreateApiToken's fields.
struct PasswordLogin {
  std::string login;
  std::string password;
};

// What check_password() verified: this user's password, as stored then.
struct VerifiedPassword {
  std::int64_t user_id = 0;
  std::string stored_hash;
};

// Thrown by Authenticator::authenticate(), before the call has written
// anything, when Basic credentials need an argon2id check: the call lets go
// of its connection, runs check_password() with none held, and starts again.
struct PasswordCheckNeeded {
  std::optional<User> user;  // nullopt: no such login
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

// Turns metadata into a Caller or throws RpcError(UNAUTHENTICATED / UNAVAILABLE
// / RESOURCE_EXHAUSTED). Valid Basic or Token credentials win over an email
// token; bad credentials are refused, never treated as anonymous.
//
// A password is never checked while a database connection is held: argon2id
// takes tens of milliseconds, and a flood of wrong passwords would otherwise
// starve every other caller of connections. Failed password logins are
// throttled (LoginThrottle); API keys and email tokens are not.
class Authenticator {
 public:
  // `token_cache` (optional) remembers resolved email tokens; without it
  // every email-token call asks the notification service. `hashing_wait`
  // bounds the wait for a password hashing slot.
  Authenticator(const Clock& clock, CredentialCache& cache, LoginThrottle& throttle,
                NotificationClient& notifications, EmailTokenCache* token_cache = nullptr,
                std::chrono::milliseconds hashing_wait = std::chrono::seconds(1));

  // The decoded Basic credentials, if that is what `credentials` holds;
  // UNAUTHENTICATED for a malformed Basic header.
  std::optional<PasswordLogin> password_login(const Credentials& credentials) const;
  // RESOURCE_EXHAUSTED (with RetryInfo) while failed logins for this login
  // or from `address` are over a limit. Needs no connection: call it first.
  void screen(const PasswordLogin& login, const std::string& address);

  // With Basic credentials, succeeds without argon2id only when this process
  // verified the same password recently (or `verified` says so for this
  // user and stored hash); else throws PasswordCheckNeeded.
  Caller authenticate(pqxx::transaction_base& tx, const Credentials& credentials,
                      const VerifiedPassword* verified = nullptr);

  // Checks `login.password` against `user` (nullopt: no such login) with no
  // connection held. Unknown, inactive and password-less users cost the same
  // argon2id run as a wrong password, so timing does not tell which accounts
  // exist. Throws UNAUTHENTICATED(`refusal`), or RESOURCE_EXHAUSTED when
  // throttled or when no hashing slot frees up in time.
  VerifiedPassword check_password(const PasswordLogin& login, const std::string& address,
                                  const std::optional<User>& user, const std::string& refusal);

 private:
  Caller from_basic(pqxx::transaction_base& tx, const PasswordLogin& login, const VerifiedPassword* verified);
  Caller from_api_token(pqxx::transaction_base& tx, const std::string& token);
  Caller from_email_token(const std::string& token, const std::string& request_id);

  const Clock& clock_;
  CredentialCache& cache_;
  LoginThrottle& throttle_;
  NotificationClient& notifications_;
  EmailTokenCache* token_cache_;
  const std::chrono::milliseconds hashing_wait_;
};

// The API key in `Token KEY` credentials, if that is what they hold.
std::optional<std::string> api_token_of(const Credentials& credentials);

}  // namespace calndro::events
