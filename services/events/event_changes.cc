// EventServiceImpl's RPCs that make, change and delete events:
// CreateEvent, UpdateEvent (open or agreed) and DeleteEvent.
#include "events/event_service.h"

#include <stdexcept>

#include "common/base/status_macros.h"
#include "common/grpc/rich_status.h"
#include "common/rpc/rpc_call.h"
#include "common/text/limits.h"
#include "events/event_checks.h"
#include "events/event_mapping.h"
#include "events/preconditions.h"
#include "events/request_validation.h"
#include "events/title_generator.h"

namespace calndro::events {
namespace {

constexpr char kNothingToChange[] = "Provide slots, title, respond_by and/or remind_before.";

// The deadline's part of a change: a new deadline (after `now`), or none.
void read_deadline_change(const v1::UpdateEventRequest& request, Instant now, EventChange& change,
                          std::vector<FieldViolation>& violations) {
  if (request.has_respond_by()) {
    change.respond_by = RespondByChange{};
    if (request.respond_by().has_at()) {
      change.respond_by->at = validate_respond_by(request.respond_by().at(), now, violations);
    }
  }
  if (request.has_remind_before()) {
    change.remind_before = validate_remind_before(request.remind_before(), violations);
  }
}

absl::StatusOr<EventChange> read_change(const v1::UpdateEventRequest& request, Instant now) {
  if (!request.has_title() && !request.has_slots() && !request.has_respond_by() &&
      !request.has_remind_before()) {
    return invalid_argument(
        std::vector<FieldViolation>{{"slots", kNothingToChange}, {"title", kNothingToChange}});
  }
  std::vector<FieldViolation> violations;
  EventChange change;
  change.expected_version = expected_version_of(request);
  // Settled under the row lock when the event is agreed (update_agreed).
  change.only_while_open = true;
  if (request.has_slots()) {
    change.slots = validate_slots(request.slots().slots(), violations);
  }
  if (request.has_title()) {
    change.title = validate_title(request.title(), violations);
    if (change.title->empty()) {
      violations.push_back({"title", "This field may not be blank."});
    }
  }
  read_deadline_change(request, now, change, violations);
  if (!violations.empty()) {
    return invalid_argument(std::move(violations));
  }
  return change;
}

// What an update's log entry says besides the slots it left.
nlohmann::json update_data(const EventChange& change) {
  nlohmann::json data = nlohmann::json::object();
  if (change.title) {
    data["title"] = *change.title;
  }
  if (change.respond_by) {
    data["respond_by"] =
        change.respond_by->at ? nlohmann::json(format_instant(*change.respond_by->at)) : nullptr;
  }
  if (change.remind_before) {
    data["remind_before"] = format_duration(*change.remind_before);
  }
  return data;
}

// The deadline closes answers for every party but the creator: only the
// creator and staff move it (access_policy.h kSetDeadline).
absl::Status check_deadline_change(const EventChange& change, const Caller& caller,
                                   const EventRecord& event) {
  if ((change.respond_by || change.remind_before) &&
      decide(Action::kSetDeadline, caller.relation_to(&event)) != Decision::kAllow) {
    return absl::PermissionDeniedError(
        "Only the creator and staff may set respond_by or remind_before (the deadline closes answers for "
        "everyone else).");
  }
  return absl::OkStatus();
}

// Why an update changed nothing: the event was deleted meanwhile, or it
// no longer has the version the caller expected.
absl::Status refused_update(EventRepository& events, std::int64_t id,
                            const std::optional<std::int64_t>& expected_version, const Caller& caller) {
  const auto current = events.load(id, RowLock::kNone);
  if (!current || current->deleted) {
    return absl::NotFoundError(kNotFound);
  }
  absl::Status stale = check_event_version(expected_version, *current, caller);
  return stale.ok() ? absl::NotFoundError(kNotFound) : stale;
}

}  // namespace

absl::StatusOr<EventRecord> EventServiceImpl::new_event(const v1::CreateEventRequest& request,
                                                        const Caller& caller) {
  std::vector<FieldViolation> violations;
  EventRecord event;
  event.parties = validate_parties(request.parties(), violations, Presence::kRequired);
  event.slots = validate_slots(request.slots(), violations);
  event.title = validate_title(request.title(), violations);
  if (request.has_respond_by()) {
    event.respond_by = validate_respond_by(request.respond_by(), clock_.now(), violations);
  }
  if (request.has_remind_before()) {
    event.remind_before = validate_remind_before(request.remind_before(), violations);
  }
  event.hide_answers = request.hide_answers();
  if (!violations.empty()) {
    return invalid_argument(std::move(violations));
  }
  if (!event.has_party(caller.email)) {
    event.parties.insert(event.parties.begin(), caller.email);
    if (event.parties.size() > static_cast<std::size_t>(limits::kMaxParties)) {
      return invalid_argument("parties",
                              "At most " + std::to_string(limits::kMaxParties) + " parties, including you.");
    }
  }
  if (event.title.empty()) {
    event.title = generate_title(random_);
  }
  event.creator = caller.email;
  return event;
}

void EventServiceImpl::store_new_event(Repositories& stores, const Caller& caller, EventRecord& event) {
  // The users for new parties are made by a statement of their own: party
  // rows without an event are harmless (the same rows a retry or a later
  // event would make). Skipped when this process has seen every party stored
  // already.
  const auto ensure_users = [&] {
    stores.users.ensure_users(event.parties);
    known_users_.add(event.parties);
  };
  const auto create = [&] {
    return stores.events.create_logged(event, caller.user_id, clock_.now(), caller.email,
                                       log_data(caller, {{"opened", "created"}}));
  };
  const bool all_known = known_users_.contain_all(event.parties);
  if (!all_known) {
    ensure_users();
  }
  std::optional<std::int64_t> id = create();
  if (!id && all_known) {
    // A party this process took for stored has no user row: the database
    // was replaced under it. The statement wrote nothing.
    known_users_.forget_all();
    ensure_users();
    id = create();
  }
  if (!id) {
    throw std::logic_error("a party of a new event has no user row after ensure_users");
  }
  event.id = *id;
}

grpc::Status EventServiceImpl::CreateEvent(grpc::ServerContext* context,
                                           const v1::CreateEventRequest* request, v1::Event* response) {
  // The event, its parties and its log entry are one statement; the users
  // for new parties are made just before. No BEGIN/COMMIT round trips,
  // unless an idempotency key asks for a transaction around its record.
  const IdempotentCall once{*request, request->request_id(), *response};
  return serve_authorized(
      context, "CreateEvent", Atomicity::kPerStatement,
      [](Repositories&, const Caller& caller) { return require_allowed(Action::kCreate, caller); },
      [&](Repositories& stores, const Caller& caller) -> absl::Status {
        auto event = new_event(*request, caller);
        if (!event.ok()) {
          return event.status();
        }
        store_new_event(stores, caller, *event);
        event_to_proto(*event, caller, *response);
        return absl::OkStatus();
      },
      &once);
}

grpc::Status EventServiceImpl::UpdateEvent(grpc::ServerContext* context,
                                           const v1::UpdateEventRequest* request, v1::Event* response) {
  // The access check reads the event unlocked: what it depends on (parties,
  // creator) never changes, and the change itself applies only to a live,
  // open event. The change and its log entry are one statement. A change of
  // an agreed event takes update_agreed()'s path: a transaction under the
  // row lock, since it mails the invitation again.
  bool agreed = false;
  grpc::Status status = serve_on_event(
      context, "UpdateEvent", Atomicity::kPerStatement, request->id(), {.action = Action::kUpdate},
      [&](Repositories& stores, const Caller& caller, const EventRecord& event) -> absl::Status {
        // Before any write: a bad PATCH logs nothing.
        CALNDRO_ASSIGN_OR_RETURN(const EventChange change, read_change(*request, clock_.now()));
        CALNDRO_RETURN_IF_ERROR(check_deadline_change(change, caller, event));
        if (event.agreed_slot) {
          agreed = true;
          return absl::OkStatus();
        }
        const auto changed = stores.events.update_logged(event.id, change, clock_.now(), caller.email,
                                                         log_data(caller, update_data(change)));
        if (!changed) {
          const auto current = stores.events.load(event.id, RowLock::kNone);
          if (current && !current->deleted && current->agreed_slot) {
            agreed = true;  // agreed meanwhile: nothing was written
            return absl::OkStatus();
          }
          return refused_update(stores.events, event.id, change.expected_version, caller);
        }
        event_to_proto(*changed, caller, *response);
        return absl::OkStatus();
      });
  if (status.ok() && agreed) {
    return update_agreed(context, *request, *response);
  }
  return status;
}

grpc::Status EventServiceImpl::update_agreed(grpc::ServerContext* context,
                                             const v1::UpdateEventRequest& request, v1::Event& response) {
  return serve_locked_write(
      context, "UpdateEvent", request.id(), Action::kUpdate, expected_version_of(request),
      [&](Repositories& stores, const Caller& caller, const EventRecord& event) -> absl::Status {
        // UpdateEvent read it and checked who may make it before.
        auto change = read_change(request, clock_.now());
        if (!change.ok()) {
          return change.status();
        }
        if (event.agreed_slot && change->slots) {
          return state_conflict(
              kEventAgreedReason,
              "The event is agreed: reopen it before changing its slots. Nothing was changed.");
        }
        if (event.agreed_slot && change->title) {
          if (decide(Action::kRetitleAgreed, caller.relation_to(&event)) != Decision::kAllow) {
            return absl::PermissionDeniedError(
                "Only the creator and staff may change the title of an agreed event (it re-invites every "
                "party).");
          }
          if (absl::Status budget = check_mail_limit(stores.outbox, event, caller, event.parties.size());
              !budget.ok()) {
            return budget;
          }
        }
        change->only_while_open = false;  // the row lock holds the state still
        const Instant now = clock_.now();
        const auto changed = stores.events.update_logged(event.id, *change, now, caller.email,
                                                         log_data(caller, update_data(*change)));
        if (!changed) {
          return refused_update(stores.events, event.id, change->expected_version, caller);
        }
        if (changed->agreed_slot && change->title) {
          queue_calendar(stores, *changed,
                         {.slot = *changed->agreed_slot, .caller_request_id = calndro::request_id(*context)},
                         caller, now);
        }
        event_to_proto(*changed, caller, response);
        return absl::OkStatus();
      });
}

grpc::Status EventServiceImpl::DeleteEvent(grpc::ServerContext* context,
                                           const v1::DeleteEventRequest* request, google::protobuf::Empty*) {
  // A deleted agreed event leaves the parties' calendars: a cancellation
  // without a link (the event page is gone), in the same transaction. The
  // hourly mail limit never refuses a deletion (staff must be able to take
  // an event down), but its mails count against the deleting caller.
  return serve_locked_write(
      context, "DeleteEvent", request->id(), Action::kDelete, expected_version_of(*request),
      [&](Repositories& stores, const Caller& caller, const EventRecord& event) -> absl::Status {
        const Instant now = clock_.now();
        stores.events.mark_deleted(event.id, now);
        append_log(stores.events, event, Occurrence::kUpdate, caller, {{"closed", "deleted"}}, now);
        if (event.agreed_slot) {
          EventRecord deleted = event;
          ++deleted.calendar_sequence;  // as mark_deleted() raised it
          queue_calendar(stores, deleted,
                         {.cancel = true,
                          .slot = *event.agreed_slot,
                          .without_link = true,  // the event page is gone
                          .caller_request_id = calndro::request_id(*context)},
                         caller, now);
        }
        return absl::OkStatus();
      });
}

}  // namespace calndro::events
