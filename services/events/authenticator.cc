#include "events/authenticator.h"

#include <sodium.h>

#include <cctype>

#include "common/base/status_macros.h"
#include "common/crypto/crypto.h"
#include "common/grpc/rich_status.h"
#include "common/text/proto_time.h"

namespace calndro::events {
namespace {

absl::Status refuse(const std::string& message) {
  return absl::UnauthenticatedError(message);
}

bool starts_with_scheme(const std::string& header, std::string_view scheme, std::string& rest) {
  if (header.size() <= scheme.size() || header[scheme.size()] != ' ') {
    return false;
  }
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != scheme[i]) {
      return false;
    }
  }
  rest = header.substr(scheme.size() + 1);
  while (!rest.empty() && rest.front() == ' ') {
    rest.erase(rest.begin());
  }
  while (!rest.empty() && rest.back() == ' ') {
    rest.pop_back();
  }
  return true;
}

bool is_token_shape(const std::string& token) {
  if (token.size() != 40) {
    return false;
  }
  for (char c : token) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

absl::Status throttled(std::chrono::seconds wait) {
  return resource_exhausted(
      "Too many failed login attempts; try again in " + std::to_string(wait.count()) + " seconds.", wait);
}

Caller user_caller(const User& user) {
  Caller caller;
  caller.kind = Caller::Kind::kUser;
  caller.user_id = user.id;
  caller.email = user.email;
  caller.staff = user.staff;
  return caller;
}

}  // namespace

std::optional<std::string> api_token_of(const Credentials& credentials) {
  std::string rest;
  if (credentials.authorization && starts_with_scheme(*credentials.authorization, "token", rest)) {
    return rest;
  }
  return std::nullopt;
}

Relation Caller::relation_to(const EventRecord* event) const {
  if (kind == Kind::kEmailToken) {
    if (event == nullptr || event->id != token_event_id) {
      return Relation::kTokenForOtherEvent;
    }
    return event->creator == email ? Relation::kCreatorToken : Relation::kTokenForThisEvent;
  }
  if (staff) {
    return Relation::kStaff;
  }
  if (event == nullptr) {
    return Relation::kParty;
  }
  if (event->creator == email) {
    return Relation::kCreator;
  }
  return event->has_party(email) ? Relation::kParty : Relation::kNonParty;
}

Authenticator::Authenticator(const Clock& clock, Database& database, CredentialCache& cache,
                             LoginThrottle& throttle, NotificationClient& notifications,
                             EmailTokenCache* token_cache, std::chrono::milliseconds hashing_wait)
    : clock_(clock),
      database_(database),
      cache_(cache),
      throttle_(throttle),
      notifications_(notifications),
      token_cache_(token_cache),
      hashing_wait_(hashing_wait) {}

absl::Status Authenticator::run_as_caller(const CallContext& call, const Credentials& credentials,
                                          Atomicity atomicity, CallerWork work) {
  CALNDRO_ASSIGN_OR_RETURN(const std::optional<PasswordLogin> login, password_login(credentials));
  if (login) {
    // A throttled login is refused before it costs a connection.
    CALNDRO_RETURN_IF_ERROR(screen(*login, credentials.client_address));
  }
  std::optional<VerifiedPassword> verified;
  for (int round = 0; round < 3; ++round) {
    std::optional<PasswordCheckNeeded> needed;
    absl::Status status = database_.run(call, atomicity, [&](Repositories& repositories) -> absl::Status {
      CALNDRO_ASSIGN_OR_RETURN(Authentication authentication, authenticate(repositories.users, credentials,
                                                                           verified ? &*verified : nullptr));
      if (auto* check = std::get_if<PasswordCheckNeeded>(&authentication)) {
        needed = std::move(*check);
        return absl::OkStatus();  // nothing written yet
      }
      return work(repositories, std::get<Caller>(authentication));
    });
    if (!status.ok() || !needed) {
      return status;
    }
    if (round == 2) {
      break;
    }
    CALNDRO_ASSIGN_OR_RETURN(verified, check_password(*login, credentials.client_address, needed->user,
                                                      "Invalid username/password."));
  }
  return absl::UnavailableError("The password changed during the request; try again.");
}

absl::StatusOr<std::optional<PasswordLogin>> Authenticator::password_login(
    const Credentials& credentials) const {
  std::string encoded;
  if (!credentials.authorization || !starts_with_scheme(*credentials.authorization, "basic", encoded)) {
    return std::nullopt;
  }
  std::string decoded(encoded.size(), '\0');
  std::size_t length = 0;
  if (encoded.empty() ||
      sodium_base642bin(reinterpret_cast<unsigned char*>(decoded.data()), decoded.size(), encoded.data(),
                        encoded.size(), nullptr, &length, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
    return refuse("Invalid basic header: credentials not correctly base64 encoded.");
  }
  decoded.resize(length);
  const std::size_t colon = decoded.find(':');
  if (colon == std::string::npos) {
    sodium_memzero(decoded.data(), decoded.size());
    return refuse("Invalid basic header: no colon between username and password.");
  }
  PasswordLogin login{decoded.substr(0, colon), decoded.substr(colon + 1)};
  sodium_memzero(decoded.data(), decoded.size());
  return login;
}

absl::Status Authenticator::screen(const PasswordLogin& login, const std::string& address) {
  if (const auto wait = throttle_.retry_after(throttle_.account_key(login.login), address)) {
    return throttled(*wait);
  }
  return absl::OkStatus();
}

absl::StatusOr<Authentication> Authenticator::authenticate(UserRepository& users,
                                                           const Credentials& credentials,
                                                           const VerifiedPassword* verified) {
  if (credentials.authorization) {
    CALNDRO_ASSIGN_OR_RETURN(const std::optional<PasswordLogin> login, password_login(credentials));
    if (login) {
      return from_basic(users, *login, verified);
    }
    std::string rest;
    if (starts_with_scheme(*credentials.authorization, "token", rest)) {
      return from_api_token(users, rest);
    }
    return refuse("Unsupported authorization scheme; use Basic or Token.");
  }
  if (credentials.email_token) {
    return from_email_token(*credentials.email_token, credentials.request_id);
  }
  return refuse("Authentication credentials were not provided.");
}

Authentication Authenticator::from_basic(UserRepository& users, const PasswordLogin& login,
                                         const VerifiedPassword* verified) {
  auto user = users.find_by_login(login.login);
  const bool known_good = user && user->active && !user->password_hash.empty() &&
                          ((verified != nullptr && verified->user_id == user->id &&
                            verified->stored_hash == user->password_hash) ||
                           cache_.contains(user->password_hash, login.password));
  if (!known_good) {
    return PasswordCheckNeeded{std::move(user)};
  }
  throttle_.succeeded(throttle_.account_key(login.login));
  return user_caller(*user);
}

absl::StatusOr<VerifiedPassword> Authenticator::check_password(const PasswordLogin& login,
                                                               const std::string& address,
                                                               const std::optional<User>& user,
                                                               const std::string& refusal) {
  // Verified by a concurrent request while this one was on its way: not a
  // guess, so not counted against the limits.
  if (user && user->active && !user->password_hash.empty() &&
      cache_.contains(user->password_hash, login.password)) {
    return VerifiedPassword{user->id, user->password_hash};
  }
  const std::string account = throttle_.account_key(login.login);
  Instant counted_at;
  if (const auto wait = throttle_.count_failure(account, address, counted_at)) {
    return throttled(*wait);
  }
  CALNDRO_ASSIGN_OR_RETURN(const bool verified, verify_in_slot(login, user, account, address, counted_at));
  if (!verified) {
    return refuse(refusal);  // the failure stays counted
  }
  throttle_.succeeded(account, address, counted_at);
  return VerifiedPassword{user->id, user->password_hash};
}

absl::StatusOr<bool> Authenticator::verify_in_slot(const PasswordLogin& login,
                                                   const std::optional<User>& user,
                                                   const std::string& account, const std::string& address,
                                                   Instant counted_at) {
  // Only an active user with a password can log in; anyone else pays the
  // same argon2id run against a decoy and is refused.
  const bool can_log_in = user && user->active && !user->password_hash.empty();
  if (can_log_in && cache_.contains(user->password_hash, login.password)) {
    return true;
  }
  PasswordHashingSlot slot(hashing_wait_);
  if (!slot.acquired()) {
    throttle_.withdraw(account, address, counted_at);
    return resource_exhausted("Too many password checks at once; try again shortly.",
                              std::chrono::seconds(1));
  }
  if (!can_log_in) {
    static const std::string decoy = hash_password("calndro-decoy-password");
    (void)verify_password(decoy, login.password);
    return false;
  }
  if (cache_.contains(user->password_hash, login.password)) {
    // Verified by a concurrent request with the same credentials while
    // this one waited for the slot.
    return true;
  }
  const bool verified = verify_password(user->password_hash, login.password);
  if (verified) {
    cache_.remember(user->password_hash, login.password);
  }
  return verified;
}

absl::StatusOr<Caller> Authenticator::from_api_token(UserRepository& users, const std::string& token) {
  if (!is_token_shape(token)) {
    return refuse("Invalid token.");
  }
  const auto user = users.find_by_api_token_hash(sha256_hex(token), clock_.now());
  if (!user || !user->active) {
    return refuse("Invalid token.");
  }
  return user_caller(*user);
}

absl::StatusOr<ResolvedEmailToken> Authenticator::resolve_email_token(const std::string& token,
                                                                      const std::string& request_id) {
  if (token_cache_ != nullptr) {
    if (auto cached = token_cache_->find(token)) {
      return std::move(*cached);
    }
  }
  calndro::notify::v1::ResolveTokenResponse response;
  const absl::Status status = notifications_.resolve_token(token, request_id, response);
  if (absl::IsNotFound(status) || absl::IsInvalidArgument(status)) {
    return refuse("Invalid email token.");
  }
  if (!status.ok()) {
    return absl::UnavailableError("The notification service is unavailable; try again later.");
  }
  ResolvedEmailToken resolved;
  resolved.event_id = response.event_id();
  resolved.party_email = response.party_email();
  resolved.fingerprint = response.fingerprint();
  resolved.expires = instant_from_proto(response.expires());
  if (token_cache_ != nullptr) {
    token_cache_->remember(token, resolved);
  }
  return resolved;
}

absl::StatusOr<Caller> Authenticator::from_email_token(const std::string& token,
                                                       const std::string& request_id) {
  if (!is_token_shape(token)) {
    return refuse("Invalid email token.");
  }
  CALNDRO_ASSIGN_OR_RETURN(auto resolved, resolve_email_token(token, request_id));
  if (resolved.expires <= clock_.now()) {
    return token_expired(resolved.expires);
  }
  Caller caller;
  caller.kind = Caller::Kind::kEmailToken;
  caller.email = std::move(resolved.party_email);
  caller.token_event_id = resolved.event_id;
  caller.token_fingerprint = std::move(resolved.fingerprint);
  return caller;
}

}  // namespace calndro::events
