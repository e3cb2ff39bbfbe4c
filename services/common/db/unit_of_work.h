#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"

// The one shape of database work in both services: a unit of work runs a
// function over the service's stores, as one transaction or statement by
// statement, on behalf of a call whose deadline and cancellation it is
// handed (CallContext), and answers a Status. What the stores are is the
// service's own (its repositories, or a transaction its stores take).
namespace calndro {

// How the work's statements commit.
enum class Atomicity {
  kTransaction,   // together, when the work returns OK (and the call is still wanted)
  kReadOnly,      // a read-only transaction
  kPerStatement,  // each on its own, with no BEGIN/COMMIT round trips
};

// The call a unit of work serves: its deadline and whether its caller gave
// up. Passed down from the RPC handler (common/rpc/rpc_call.h's
// call_context) to the database; a background job passes
// CallContext::background().
struct CallContext {
  using TimePoint = std::chrono::system_clock::time_point;

  // nullopt: the caller set none.
  std::optional<TimePoint> deadline;
  // True once the caller cancelled. Asking gRPC polls the call's completion
  // queue (tens of microseconds), so it is asked once, right before COMMIT.
  std::function<bool()> cancelled = [] { return false; };

  // No deadline, never cancelled: the relay, the purges, a metrics scrape.
  static CallContext background() { return {}; }

  // DEADLINE_EXCEEDED once the deadline has passed, else OK. A clock read:
  // checked before a call starts and before a write that commits on its own.
  absl::Status within_deadline() const {
    if (deadline && std::chrono::system_clock::now() >= *deadline) {
      return absl::DeadlineExceededError("The call's deadline passed; nothing was changed.");
    }
    return absl::OkStatus();
  }

  // within_deadline(), and CANCELLED once the caller cancelled: a
  // transaction checks it right before COMMIT, so a change whose caller was
  // told it failed does not land after the caller's next one.
  absl::Status still_wanted() const {
    if (absl::Status within = within_deadline(); !within.ok()) {
      return within;
    }
    if (cancelled()) {
      return absl::CancelledError("The caller cancelled the call; nothing was changed.");
    }
    return absl::OkStatus();
  }
};

// Thrown from deep in a store (a write that commits on its own, a statement
// cancelled at the deadline) where no Status can be returned; serve_rpc
// (common/rpc/rpc_call.h) answers its status.
class CallAbandoned : public std::runtime_error {
 public:
  explicit CallAbandoned(absl::Status status)
      : std::runtime_error(std::string(status.message())), status_(std::move(status)) {}
  const absl::Status& status() const { return status_; }

 private:
  absl::Status status_;
};

// For a write that commits on its own (nothing rolls it back): throws
// CallAbandoned, before the write, once the call's deadline passed.
inline void throw_if_past_deadline(const CallContext& call) {
  if (absl::Status within = call.within_deadline(); !within.ok()) {
    throw CallAbandoned(std::move(within));
  }
}

// A service's database: runs `work` over `Stores` as `atomicity` says, for
// `call`; commits only when `work` returns OK (a refused call changes
// nothing) and answers its status, or the call's when the call was given up
// meanwhile. Losing the database is thrown (DatabaseUnavailable, pqxx
// errors), as serve_rpc and the background loops expect.
template <typename Stores>
class UnitOfWork {
 public:
  using Work = absl::FunctionRef<absl::Status(Stores&)>;

  virtual ~UnitOfWork() = default;
  virtual absl::Status run(const CallContext& call, Atomicity atomicity, Work work) = 0;
};

}  // namespace calndro
