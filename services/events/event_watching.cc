// EventServiceImpl's part of WatchEvent (SPEC §11): the stream itself is
// event_watch.h's, served by watch_serving.h; here is what each of its
// looks at the event decides.
#include "common/rpc/rpc_call.h"
#include "events/event_checks.h"
#include "events/event_mapping.h"
#include "events/event_service.h"

namespace calndro::events {
namespace {

// A look is bounded by this, not by the stream's own deadline (a stream may
// stay open for hours).
constexpr auto kLookTimeout = std::chrono::seconds(10);

// Whom a stream counts against: the user, or the one email token.
std::string caller_key(const Caller& caller) {
  return caller.uses_email_token() ? "token:" + caller.token_fingerprint
                                   : "user:" + std::to_string(caller.user_id);
}

// A refusal that ends a stream: what the caller presented no longer opens
// the event. Anything else (the database down, a busy hashing slot) is
// looked at again at the next re-check.
bool ends_the_stream(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kInvalidArgument:
      return true;
    default:
      return false;
  }
}

}  // namespace

WatchLook EventServiceImpl::look_for_watch(const Credentials& credentials, std::int64_t id, LookKind kind) {
  WatchLook look;
  CallContext call;
  call.deadline = std::chrono::system_clock::now() + kLookTimeout;
  absl::Status status;
  try {
    status = authenticator_.run_as_caller(
        call, credentials, Atomicity::kPerStatement,
        [&](Repositories& stores, const Caller& caller) -> absl::Status {
          const auto event = id > 0 ? stores.events.load(id, RowLock::kNone) : std::nullopt;
          // A stream opens only on a live event (as GetEvent); one that was
          // open learns of the deletion.
          if (!event || (event->deleted && kind == LookKind::kOpening)) {
            return absl::NotFoundError(kNotFound);
          }
          if (event->deleted) {
            look.outcome = WatchLook::Outcome::kDeleted;
            return absl::OkStatus();
          }
          if (decide(Action::kDetail, caller.relation_to(&*event)) != Decision::kAllow) {
            return absl::PermissionDeniedError(kForbidden);
          }
          event_to_proto(*event, caller, look.event);
          if (kind == LookKind::kOpening) {
            append_log(stores.events, *event, Occurrence::kView, caller, nlohmann::json::object());
            look.caller_key = caller_key(caller);
          }
          look.outcome = WatchLook::Outcome::kEvent;
          return absl::OkStatus();
        });
  } catch (...) {
    status = status_from_exception("WatchEvent", credentials.request_id);
  }
  if (!status.ok()) {
    look.status = status;
    look.outcome = kind == LookKind::kOpening || ends_the_stream(status) ? WatchLook::Outcome::kRefused
                                                                         : WatchLook::Outcome::kUnavailable;
  }
  return look;
}

}  // namespace calndro::events
