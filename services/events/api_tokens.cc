// EventServiceImpl's API keys: CreateApiToken (a login mints a key) and
// RevokeApiToken (the key the call carries).
#include "events/event_service.h"

#include "common/base/status_macros.h"
#include "common/crypto/crypto.h"
#include "common/grpc/rich_status.h"
#include "common/rpc/rpc_call.h"
#include "common/text/proto_time.h"

namespace calndro::events {

absl::StatusOr<VerifiedPassword> EventServiceImpl::verify_login(const CallContext& call,
                                                                const Credentials& credentials,
                                                                const v1::CreateApiTokenRequest& request,
                                                                const std::string& refusal) {
  std::vector<FieldViolation> violations;
  if (request.username().empty()) {
    violations.push_back({"username", "This field is required."});
  }
  if (request.password().empty()) {
    violations.push_back({"password", "This field is required."});
  }
  if (!violations.empty()) {
    return invalid_argument(std::move(violations));
  }
  const PasswordLogin login{request.username(), request.password()};
  CALNDRO_RETURN_IF_ERROR(authenticator_.screen(login, credentials.client_address));
  std::optional<User> user;
  CALNDRO_RETURN_IF_ERROR(database_.run(call, Atomicity::kPerStatement, [&](Repositories& stores) {
    user = stores.users.find_by_login(login.login);
    return absl::OkStatus();
  }));
  return authenticator_.check_password(login, credentials.client_address, user, refusal);
}

grpc::Status EventServiceImpl::CreateApiToken(grpc::ServerContext* context,
                                              const v1::CreateApiTokenRequest* request,
                                              v1::CreateApiTokenResponse* response) {
  return serve_rpc(*context, "CreateApiToken", [&] {
    return mint_api_token(call_context(*context), read_credentials(*context), *request, *response);
  });
}

absl::Status EventServiceImpl::mint_api_token(const CallContext& call, const Credentials& credentials,
                                              const v1::CreateApiTokenRequest& request,
                                              v1::CreateApiTokenResponse& response) {
  const std::string refusal = "Unable to log in with provided credentials.";
  CALNDRO_ASSIGN_OR_RETURN(const VerifiedPassword verified,
                           verify_login(call, credentials, request, refusal));
  const std::string token = random_hex(random_, 20);
  const Instant expires = clock_.now() + options_.api_token_lifetime;
  bool minted = false;
  CALNDRO_RETURN_IF_ERROR(database_.run(call, Atomicity::kPerStatement, [&](Repositories& stores) {
    // Only while the password is still the one just verified and the user
    // still active: a change in between revoked every key.
    minted = stores.users.add_api_token(verified.user_id, verified.stored_hash, sha256_hex(token), expires);
    return absl::OkStatus();
  }));
  if (!minted) {
    return absl::UnauthenticatedError(refusal);
  }
  response.set_token(token);
  *response.mutable_expires() = instant_to_proto(expires);
  return absl::OkStatus();
}

grpc::Status EventServiceImpl::RevokeApiToken(grpc::ServerContext* context, const v1::RevokeApiTokenRequest*,
                                              google::protobuf::Empty*) {
  return serve_rpc(*context, "RevokeApiToken", [&] {
    const Credentials credentials = read_credentials(*context);
    const auto token = api_token_of(credentials);
    if (!token) {
      return absl::UnauthenticatedError("Send the key to revoke as Authorization: Token KEY.");
    }
    // Authenticated first: a valid, unexpired key of an active user.
    return authenticator_.run_as_caller(
        call_context(*context), credentials, Atomicity::kPerStatement,
        [&](Repositories& stores, const Caller&) -> absl::Status {
          if (!stores.users.revoke_api_token(sha256_hex(*token))) {
            return absl::UnauthenticatedError("Invalid token.");  // revoked meanwhile
          }
          return absl::OkStatus();
        });
  });
}

}  // namespace calndro::events
