#include "events/idempotency.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <memory>
#include <stdexcept>

#include "common/crypto/crypto.h"
#include "common/grpc/rich_status.h"
#include "common/text/text.h"

namespace calndro::events {
namespace {

// Fields of a request that are not what the caller asks for.
constexpr const char* kNotTheRequest[] = {"request_id"};

std::string deterministic_bytes(const google::protobuf::Message& message) {
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  if (!message.SerializeToCodedStream(&coded)) {
    throw std::runtime_error("request not serializable");
  }
  coded.Trim();
  return bytes;
}

}  // namespace

absl::Status validate_idempotency_key(std::string_view key) {
  if (!is_idempotency_key(key)) {
    return invalid_argument("request_id",
                            "An idempotency key is 1 to 255 visible ASCII characters (no spaces).");
  }
  return absl::OkStatus();
}

std::string request_hash(std::string_view rpc, const google::protobuf::Message& request) {
  std::unique_ptr<google::protobuf::Message> copy(request.New());
  copy->CopyFrom(request);
  for (const char* name : kNotTheRequest) {
    if (const auto* field = copy->GetDescriptor()->FindFieldByName(name)) {
      copy->GetReflection()->ClearField(copy.get(), field);
    }
  }
  // What this service does not read is not what was asked for either: an
  // older caller's removed link_base_url among them.
  copy->DiscardUnknownFields();
  // The RPC's name has no newline: the two parts cannot run into each other.
  return sha256_hex(std::string(rpc) + "\n" + deterministic_bytes(*copy));
}

std::string idempotency_caller(const Caller& caller) {
  if (caller.uses_email_token()) {
    return "token:" + std::to_string(caller.token_event_id) + ":" + caller.token_fingerprint;
  }
  return "user:" + std::to_string(caller.user_id);
}

absl::Status Idempotency::run(IdempotencyStore& store, const Caller& caller, std::string_view rpc,
                              const IdempotentCall& call, bool& replayed,
                              absl::FunctionRef<absl::Status()> act) const {
  replayed = false;
  if (call.key.empty()) {
    return act();
  }
  if (absl::Status valid = validate_idempotency_key(call.key); !valid.ok()) {
    return valid;
  }
  const std::string who = idempotency_caller(caller);
  const std::string key(call.key);
  const std::string hash = request_hash(rpc, call.request);
  const Instant now = clock_.now();
  const auto earlier = store.claim(who, key, hash, now, now - window_);
  if (earlier) {
    if (earlier->request_hash != hash) {
      return idempotency_key_reused(
          "This idempotency key was used with a different request; use a new key for a new request.");
    }
    if (!call.response.ParseFromString(earlier->response)) {
      throw std::runtime_error("stored idempotent answer not readable");
    }
    replayed = true;
    return absl::OkStatus();
  }
  absl::Status status = act();
  if (!status.ok()) {
    return status;
  }
  if (call.outcome == Outcome::kChangedNothing) {
    store.release(who, key);
  } else {
    store.complete(who, key, call.response.SerializeAsString());
  }
  return status;
}

}  // namespace calndro::events
