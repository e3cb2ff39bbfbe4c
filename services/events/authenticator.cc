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

}  // namespace

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

Authenticator::Authenticator(const Clock& clock, CredentialCache& cache, NotificationClient& notifications,
                             EmailTokenCache* token_cache)
    : clock_(clock), cache_(cache), notifications_(notifications), token_cache_(token_cache) {}

Caller Authenticator::authenticate(pqxx::transaction_base& tx, const Credentials& credentials) {
  if (credentials.authorization) {
    std::string rest;
    if (starts_with_scheme(*credentials.authorization, "basic", rest)) {
      return from_basic(tx, rest);
    }
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

Caller Authenticator::from_basic(pqxx::transaction_base& tx, const std::string& encoded) {
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
    refuse("Invalid basic header: no colon between username and password.");
  }
  const std::string login = decoded.substr(0, colon);
  const std::string password = decoded.substr(colon + 1);
  sodium_memzero(decoded.data(), decoded.size());
  const auto user = UserStore::find_by_login(tx, login);
  // The same answer for an unknown user, a wrong password and an inactive
  // account: the response must not reveal which accounts exist.
  const std::string invalid = "Invalid username/password.";
  if (!user || user->password_hash.empty()) {
    // Pay the same KDF cost as a wrong password, so response times do not
    // tell which logins exist.
    PasswordHashingSlot slot;
    static const std::string decoy = hash_password("calndro-decoy-password");
    (void)verify_password(decoy, password);
    refuse(invalid);
  }
  if (!cache_.contains(user->password_hash, password)) {
    PasswordHashingSlot slot;
    // Concurrent first requests with the same credentials wait here: the
    // first verifies, the others then find it in the cache.
    if (!cache_.contains(user->password_hash, password)) {
      if (!verify_password(user->password_hash, password)) {
        refuse(invalid);
      }
      cache_.remember(user->password_hash, password);
    }
  }
  if (!user->active) {
    refuse(invalid);
  }
  Caller caller;
  caller.kind = Caller::Kind::User;
  caller.user_id = user->id;
  caller.email = user->email;
  caller.staff = user->staff;
  return caller;
}

Caller Authenticator::from_api_token(pqxx::transaction_base& tx, const std::string& token) {
  if (!is_token_shape(token)) {
    refuse("Invalid token.");
  }
  const auto user = UserStore::find_by_api_token_hash(tx, sha256_hex(token));
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
      throw RpcError(grpc::StatusCode::UNAVAILABLE, "The notification service is unavailable; try again later.");
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
