#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "common/text/clock.h"
#include "events/access_policy.h"
#include "events/credential_cache.h"
#include "events/email_token_cache.h"
#include "events/login_throttle.h"
#include "events/notification_client.h"
#include "events/stores.h"

namespace calndro::events {

// What a call presented, as read from gRPC metadata.
struct Credentials {
  std::optional<std::string> authorization;  // "Basic ..." or "Token ..."
  std::optional<std::string> email_token;
  std::string request_id;
  // The caller's address as the login throttle keys it: from
  // `x-calndro-client-addr` (set by the gateway, believed only with the
  // internal credential: events/caller_address.h), else the gRPC peer.
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

// Authenticator::authenticate()'s answer when Basic credentials need an
// argon2id check: the call lets go of its connection, runs check_password()
// with none held, and starts again.
struct PasswordCheckNeeded {
  std::optional<User> user;  // nullopt: no such login
};

// An authenticated caller.
struct Caller {
  enum class Kind { kUser, kEmailToken };
  Kind kind = Kind::kUser;
  std::int64_t user_id = 0;  // kUser only
  std::string email;         // the user's, or the party's the token was issued to
  bool staff = false;
  std::int64_t token_event_id = 0;
  std::string token_fingerprint;  // non-secret; goes into log entries

  bool uses_email_token() const { return kind == Kind::kEmailToken; }
  // Relation for calls on `event`; nullptr for List/Create.
  Relation relation_to(const EventRecord* event) const;
};

// What authenticate() found: the caller, or a password to check first.
using Authentication = std::variant<Caller, PasswordCheckNeeded>;

// Turns metadata into a Caller, or UNAUTHENTICATED / UNAVAILABLE /
// RESOURCE_EXHAUSTED. Valid Basic or Token credentials win over an email
// token; bad credentials are refused, never treated as anonymous.
//
// A password is never checked while a database connection is held: argon2id
// takes tens of milliseconds, and a flood of wrong passwords would otherwise
// starve every other caller of connections. Failed password logins are
// throttled (LoginThrottle); API keys and email tokens are not.
class Authenticator {
 public:
  using CallerWork = absl::FunctionRef<absl::Status(Repositories&, const Caller&)>;

  // `token_cache` (optional) remembers resolved email tokens; without it
  // every email-token call asks the notification service. `hashing_wait`
  // bounds the wait for a password hashing slot.
  Authenticator(const Clock& clock, Database& database, CredentialCache& cache, LoginThrottle& throttle,
                NotificationClient& notifications, EmailTokenCache* token_cache = nullptr,
                std::chrono::milliseconds hashing_wait = std::chrono::seconds(1));

  // Authenticates the caller and runs `work` as that caller on one
  // connection, as `atomicity` says, for `call`. A password not verified recently is
  // checked between two connection leases: the first looks the user up, the
  // second does the work. A third happens only when the password changed in
  // between.
  absl::Status run_as_caller(const CallContext& call, const Credentials& credentials, Atomicity atomicity,
                             CallerWork work);

  // The decoded Basic credentials, if that is what `credentials` holds;
  // UNAUTHENTICATED for a malformed Basic header.
  absl::StatusOr<std::optional<PasswordLogin>> password_login(const Credentials& credentials) const;
  // RESOURCE_EXHAUSTED (with RetryInfo) while failed logins for this login
  // or from `address` are over a limit. Needs no connection: call it first.
  absl::Status screen(const PasswordLogin& login, const std::string& address);

  // With Basic credentials, a Caller without argon2id only when this
  // process verified the same password recently (or `verified` says so for
  // this user and stored hash); else PasswordCheckNeeded.
  absl::StatusOr<Authentication> authenticate(UserRepository& users, const Credentials& credentials,
                                              const VerifiedPassword* verified = nullptr);

  // Checks `login.password` against `user` (nullopt: no such login) with no
  // connection held. Unknown, inactive and password-less users cost the same
  // argon2id run as a wrong password, so timing does not tell which accounts
  // exist. UNAUTHENTICATED(`refusal`), or RESOURCE_EXHAUSTED when throttled
  // or when no hashing slot frees up in time.
  absl::StatusOr<VerifiedPassword> check_password(const PasswordLogin& login, const std::string& address,
                                                  const std::optional<User>& user,
                                                  const std::string& refusal);

 private:
  Authentication from_basic(UserRepository& users, const PasswordLogin& login,
                            const VerifiedPassword* verified);
  absl::StatusOr<Caller> from_api_token(UserRepository& users, const std::string& token);
  absl::StatusOr<Caller> from_email_token(const std::string& token, const std::string& request_id);
  absl::StatusOr<ResolvedEmailToken> resolve_email_token(const std::string& token,
                                                         const std::string& request_id);
  // The argon2id run itself, in a hashing slot; false: a wrong password.
  absl::StatusOr<bool> verify_in_slot(const PasswordLogin& login, const std::optional<User>& user,
                                      const std::string& account, const std::string& address,
                                      Instant counted_at);

  const Clock& clock_;
  Database& database_;
  CredentialCache& cache_;
  LoginThrottle& throttle_;
  NotificationClient& notifications_;
  EmailTokenCache* token_cache_;
  const std::chrono::milliseconds hashing_wait_;
};

// The API key in `Token KEY` credentials, if that is what they hold.
std::optional<std::string> api_token_of(const Credentials& credentials);

}  // namespace calndro::events
