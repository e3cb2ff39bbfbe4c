// The serving path every RPC of EventServiceImpl takes: credentials from
// metadata, the caller, access to the event, idempotency keys and the
// relay's wake-up. The RPCs themselves are in the files of their use case:
// events_read.cc, event_changes.cc, event_agreement.cc, event_notify.cc and
// api_tokens.cc.
#include "events/event_service.h"

#include "common/rpc/rpc_call.h"
#include "events/caller_address.h"
#include "events/event_checks.h"
#include "events/event_mapping.h"

namespace calndro::events {
namespace {

Credentials credentials_from(const grpc::ServerContextBase& context, std::string_view internal_token) {
  Credentials credentials;
  credentials.authorization = metadata_value(context, "authorization");
  credentials.email_token = metadata_value(context, "x-email-token");
  credentials.request_id = calndro::request_id(context);
  // The gateway's HTTP client with the internal credential, else the peer.
  credentials.client_address = caller_address(context, internal_token);
  return credentials;
}

}  // namespace

EventServiceImpl::EventServiceImpl(Database& database, Authenticator& authenticator, const Clock& clock,
                                   RandomSource& random, const EventServiceOptions& options)
    : database_(database),
      authenticator_(authenticator),
      clock_(clock),
      random_(random),
      options_(options),
      idempotency_(clock, options.idempotency_window) {}

Credentials EventServiceImpl::read_credentials(const grpc::ServerContextBase& context) const {
  return credentials_from(context, options_.internal_token);
}

grpc::Status EventServiceImpl::serve_as_caller(grpc::ServerContext* context, std::string_view method,
                                               Atomicity atomicity, Authenticator::CallerWork work) {
  return serve_authorized(
      context, method, atomicity, [](Repositories&, const Caller&) { return absl::OkStatus(); }, work,
      nullptr);
}

grpc::Status EventServiceImpl::serve_authorized(grpc::ServerContext* context, std::string_view method,
                                                Atomicity atomicity, Authenticator::CallerWork authorize,
                                                Authenticator::CallerWork act, const IdempotentCall* once) {
  return serve_rpc(*context, method, [&] {
    const Credentials credentials = read_credentials(*context);
    const bool keyed = once != nullptr && !once->key.empty();
    // The claim on the key, the action and its answer commit together.
    bool replayed = false;
    const auto authorized_act = [&](Repositories& stores, const Caller& caller) -> absl::Status {
      // Before any replay: a stored answer goes only to a caller who may
      // still make the call.
      if (absl::Status allowed = authorize(stores, caller); !allowed.ok()) {
        return allowed;
      }
      if (!keyed) {
        return act(stores, caller);
      }
      return idempotency_.run(stores.idempotency, caller, method, *once, replayed,
                              [&] { return act(stores, caller); });
    };
    absl::Status status = authenticator_.run_as_caller(
        call_context(*context), credentials, keyed ? Atomicity::kTransaction : atomicity, authorized_act);
    if (status.ok() && replayed) {
      context->AddInitialMetadata(kReplayedMetadata, "true");
    }
    return status;
  });
}

absl::StatusOr<EventRecord> EventServiceImpl::load_authorized(EventRepository& events, std::int64_t id,
                                                              const EventAccess& access,
                                                              const Caller& caller) {
  if (id <= 0) {
    return absl::NotFoundError(kNotFound);
  }
  auto event = events.load(id, access.lock);
  if (!event || (event->deleted && access.deleted == DeletedEvent::kNotFound)) {
    return absl::NotFoundError(kNotFound);
  }
  const Relation relation = caller.relation_to(&*event);
  if (event->deleted && relation != Relation::kStaff) {
    return absl::NotFoundError(kNotFound);
  }
  if (decide(access.action, relation) != Decision::kAllow) {
    return absl::PermissionDeniedError(kForbidden);
  }
  return *std::move(event);
}

void EventServiceImpl::append_log(EventRepository& events, const EventRecord& event, Occurrence occurrence,
                                  const Caller& caller, nlohmann::json data, std::optional<Instant> when) {
  events.append_log(event.id, when.value_or(clock_.now()), occurrence, caller.email, event.slots,
                    log_data(caller, std::move(data)));
}

grpc::Status EventServiceImpl::serve_on_event(grpc::ServerContext* context, std::string_view method,
                                              Atomicity atomicity, std::int64_t id, EventAccess access,
                                              EventWork work, const IdempotentCall* once) {
  std::optional<EventRecord> event;
  return serve_authorized(
      context, method, atomicity,
      [&](Repositories& stores, const Caller& caller) -> absl::Status {
        auto loaded = load_authorized(stores.events, id, access, caller);
        if (!loaded.ok()) {
          return loaded.status();
        }
        event = *std::move(loaded);
        return absl::OkStatus();
      },
      [&](Repositories& stores, const Caller& caller) { return work(stores, caller, *event); }, once);
}

grpc::Status EventServiceImpl::serve_locked_write(grpc::ServerContext* context, std::string_view method,
                                                  std::int64_t id, Action action,
                                                  std::optional<std::int64_t> expected_version,
                                                  EventWork work, const IdempotentCall* once) {
  grpc::Status status = serve_on_event(
      context, method, Atomicity::kTransaction, id, {.action = action, .lock = RowLock::kForUpdate},
      [&](Repositories& stores, const Caller& caller, const EventRecord& event) -> absl::Status {
        if (absl::Status current = check_event_version(expected_version, event, caller); !current.ok()) {
          return current;
        }
        return work(stores, caller, event);
      },
      once);
  if (status.ok()) {
    options_.notify_committed();  // it may have queued mail: the relay looks now
  }
  return status;
}

}  // namespace calndro::events
