#pragma once

#include <google/protobuf/message.h>

#include <chrono>
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "common/text/clock.h"
#include "events/authenticator.h"
#include "events/stores.h"

// SPEC §3 "Idempotency" in the event service: a request with a request_id
// (REST: Idempotency-Key) acts at most once per caller and key within the
// window; a repeat of the same request gets the first answer again, the same
// key with another request is refused. docs/ARCHITECTURE.md has the design.
namespace calndro::events {

// Response initial metadata of a replayed answer.
inline constexpr const char* kReplayedMetadata = "x-idempotent-replayed";

// What an idempotent call's action did.
enum class Outcome {
  kChanged,
  // Nothing changed, nothing was queued or logged (agreeing again on the
  // agreed slot): no record is kept, since a repeat has nothing to undo and
  // a record would only cost storage (up to the size of the answer).
  kChangedNothing,
};

// One idempotent call: its request (`key` is the request's request_id,
// empty for none) and the response to store, or to fill with a replay.
// The action sets `outcome`.
struct IdempotentCall {
  const google::protobuf::Message& request;
  std::string_view key;
  google::protobuf::Message& response;
  Outcome outcome = Outcome::kChanged;
};

// INVALID_ARGUMENT naming request_id unless `key` is 1 to 255 visible
// ASCII characters.
absl::Status validate_idempotency_key(std::string_view key);

// SHA-256 (hex) of `rpc` and the deterministic serialization of `request`
// without request_id (the key) and fields this service does not know.
std::string request_hash(std::string_view rpc, const google::protobuf::Message& request);

// The caller as records are keyed: "user:<id>", or for an email token
// "token:<event>:<fingerprint>" (never the token).
std::string idempotency_caller(const Caller& caller);

class Idempotency {
 public:
  Idempotency(const Clock& clock, std::chrono::seconds window) : clock_(clock), window_(window) {}

  // Within the transaction `store` belongs to, once the caller has been
  // authorized for the call as things are now: without a key, act(). With
  // one, claims (caller, key) first, then acts and stores the response when
  // act() succeeds and changed something (a refused request commits
  // nothing, so a retry runs again; one that changed nothing leaves no
  // record). When the caller already committed the same request under the
  // key within the window, acts not at all: fills call.response with the
  // first answer and sets `replayed`. The same key with another request is
  // ALREADY_EXISTS with ErrorInfo IDEMPOTENCY_KEY_REUSED.
  absl::Status run(IdempotencyStore& store, const Caller& caller, std::string_view rpc,
                   const IdempotentCall& call, bool& replayed, absl::FunctionRef<absl::Status()> act) const;

  std::chrono::seconds window() const { return window_; }

 private:
  const Clock& clock_;
  const std::chrono::seconds window_;
};

}  // namespace calndro::events
