#include "events/authenticator.h"

#include <sodium.h>

#include <cctype>

#include "common/crypto.h"
#include "common/rich_status.h"
#include "events/rpc_error.h"
#include "events/user_store.h"

namespace calndro::events {
namespace {

[[noreturn]] void refuse(const std::string& message) {
  throw RpcError(grpc::StatusCode::UNAUTHENTICATED, message);
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

grpc::Status throttled(std::chrono::seconds wait) {
  return to_grpc_status(resource_exhausted(
      "Too many failed login attempts; try again in " + std::to_string(wait.count()) + " seconds.", wait));
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
  if (kind == Kind::EmailToken) {
    return (event != nullptr && event->id == token_event_id) ? Relation::TokenForThisEvent
                                                             : Relation::TokenForOtherEvent;
  }
  if (staff) {
    return Relation::Staff;
  }
  if (event == nullptr) {
    return Relation::Party;
  }
  return event->has_party(email) ? Relation::Party : Relation::NonParty;
}

Authenticator::Authenticator(const Clock& clock, CredentialCache& cache, LoginThrottle& throttle,
                             NotificationClient& notifications, EmailTokenCache* token_cache,
                             std::chrono::milliseconds hashing_wait)
    : clock_(clock),
      cache_(cache),
      throttle_(throttle),
      notifications_(notifications),
      token_cache_(token_cache),
      hashing_wait_(hashing_wait) {}

std::optional<PasswordLogin> Authenticator::password_login(const Credentials& credentials) const {
  std::string encoded;
  if (!credentials.authorization || !starts_with_scheme(*credentials.authorization, "basic", encoded)) {
    return std::nullopt;
  }
  std::string decoded(encoded.size(), '\0');
  std::size_t length = 0;
  if (encoded.empty() ||
      sodium_base642bin(reinterpret_cast<unsigned char*>(decoded.data()), decoded.size(), encoded.data(),
                        encoded.size(), nullptr, &length, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
    refuse("Invalid basic header: credentials not correctly base64 encoded.");
  }
  decoded.resize(length);
  const std::size_t colon = decoded.find(':');
  if (colon == std::string::npos) {
    sodium_memzero(decoded.data(), decoded.size());
    refuse("Invalid basic header: no colon between username and password.");
  }
  PasswordLogin login{decoded.substr(0, colon), decoded.substr(colon + 1)};
  sodium_memzero(decoded.data(), decoded.size());
  return login;
}

void Authenticator::screen(const PasswordLogin& login, const std::string& address) {
  if (const auto wait = throttle_.retry_after(throttle_.account_key(login.login), address)) {
    throw RpcError(throttled(*wait));
  }
}

Caller Authenticator::authenticate(pqxx::transaction_base& tx, const Credentials& credentials,
                                   const VerifiedPassword* verified) {
  if (credentials.authorization) {
    if (const auto login = password_login(credentials)) {
      return from_basic(tx, *login, verified);
    }
    std::string rest;
    if (starts_with_scheme(*credentials.authorization, "token", rest)) {
      return from_api_token(tx, rest);
    }
    refuse("Unsupported authorization scheme; use Basic or Token.");
  }
  if (credentials.email_token) {
    return from_email_token(*credentials.email_token, credentials.request_id);
  }
  refuse("Authentication credentials were not provided.");
}

Caller Authenticator::from_basic(pqxx::transaction_base& tx, const PasswordLogin& login,
                                 const VerifiedPassword* verified) {
  auto user = UserStore::find_by_login(tx, login.login);
  const bool known_good = user && user->active && !user->password_hash.empty() &&
                          ((verified != nullptr && verified->user_id == user->id &&
                            verified->stored_hash == user->password_hash) ||
                           cache_.contains(user->password_hash, login.password));
  if (!known_good) {
    throw PasswordCheckNeeded{std::move(user)};
  }
  throttle_.succeeded(throttle_.account_key(login.login));
  Caller caller;
  caller.kind = Caller::Kind::User;
  caller.user_id = user->id;
  caller.email = user->email;
  caller.staff = user->staff;
  return caller;
}

VerifiedPassword Authenticator::check_password(const PasswordLogin& login, const std::string& address,
                                               const std::optional<User>& user, const std::string& refusal) {
  const std::string account = throttle_.account_key(login.login);
  Instant counted_at;
  if (const auto wait = throttle_.count_failure(account, address, counted_at)) {
    throw RpcError(throttled(*wait));
  }
  // Only an active user with a password can log in; anyone else pays the
  // same argon2id run against a decoy and is refused.
  const bool can_log_in = user && user->active && !user->password_hash.empty();
  bool verified = can_log_in && cache_.contains(user->password_hash, login.password);
  if (!verified) {
    PasswordHashingSlot slot(hashing_wait_);
    if (!slot.acquired()) {
      throttle_.withdraw(account, address, counted_at);
      throw RpcError(resource_exhausted("Too many password checks at once; try again shortly.",
                                        std::chrono::seconds(1)));
    }
    if (!can_log_in) {
      static const std::string decoy = hash_password("calndro-decoy-password");
      (void)verify_password(decoy, login.password);
    } else if (cache_.contains(user->password_hash, login.password)) {
      // Verified by a concurrent request with the same credentials while
      // this one waited for the slot.
      verified = true;
    } else {
      verified = verify_password(user->password_hash, login.password);
      if (verified) {
        cache_.remember(user->password_hash, login.password);
      }
    }
  }
  if (!verified) {
    refuse(refusal);  // the failure stays counted
  }
  throttle_.succeeded(account, address, counted_at);
  return VerifiedPassword{user->id, user->password_hash};
}

Caller Authenticator::from_api_token(pqxx::transaction_base& tx, const std::string& token) {
  if (!is_token_shape(token)) {
    refuse("Invalid token.");
  }
  const auto user = UserStore::find_by_api_token_hash(tx, sha256_hex(token), clock_.now());
  if (!user || !user->active) {
    refuse("Invalid token.");
  }
  Caller caller;
  caller.kind = Caller::Kind::User;
  caller.user_id = user->id;
  caller.email = user->email;
  caller.staff = user->staff;
  return caller;
}

Caller Authenticator::from_email_token(const std::string& token, const std::string& request_id) {
  if (!is_token_shape(token)) {
    refuse("Invalid email token.");
  }
  std::optional<ResolvedEmailToken> cached;
  if (token_cache_ != nullptr) {
    cached = token_cache_->find(token);
  }
  ResolvedEmailToken resolved;
  if (cached) {
    resolved = std::move(*cached);
  } else {
    calndro::notify::v1::ResolveTokenResponse response;
    const grpc::Status status = notifications_.resolve_token(token, request_id, response);
    if (status.error_code() == grpc::StatusCode::NOT_FOUND ||
        status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
      refuse("Invalid email token.");
    }
    if (!status.ok()) {
      throw RpcError(grpc::StatusCode::UNAVAILABLE,
                     "The notification service is unavailable; try again later.");
    }
    resolved.event_id = response.event_id();
    resolved.party_email = response.party_email();
    resolved.fingerprint = response.fingerprint();
    resolved.expires = Instant(std::chrono::seconds(response.expires().seconds())) +
                       Micros(response.expires().nanos() / 1000);
    if (token_cache_ != nullptr) {
      token_cache_->remember(token, resolved);
    }
  }
  if (resolved.expires <= clock_.now()) {
    throw RpcError(token_expired(resolved.expires));
  }
  Caller caller;
  caller.kind = Caller::Kind::EmailToken;
  caller.email = std::move(resolved.party_email);
  caller.token_event_id = resolved.event_id;
  caller.token_fingerprint = std::move(resolved.fingerprint);
  return caller;
}

}  // namespace calndro::events
