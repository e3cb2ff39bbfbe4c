// EventServiceImpl's agreement RPCs: AgreeEvent fixes one of the event's
// slots, ReopenEvent releases it; each mails the parties' calendars.
#include "events/event_service.h"

#include <algorithm>

#include "common/grpc/rich_status.h"
#include "common/rpc/rpc_call.h"
#include "common/text/time_slot.h"
#include "events/event_mapping.h"
#include "events/preconditions.h"

namespace calndro::events {
namespace {

// The slot an AgreeEvent request names: one of the event's current slots.
absl::StatusOr<Slot> read_agreed_slot(const v1::AgreeEventRequest& request, const EventRecord& event) {
  if (!request.has_slot()) {
    return invalid_argument("slot", "This field is required.");
  }
  const auto slot = slot_from_proto(request.slot());
  if (!slot.ok()) {
    return invalid_argument("slot", std::string(slot.status().message()));
  }
  if (std::find(event.slots.begin(), event.slots.end(), *slot) == event.slots.end()) {
    return invalid_argument("slot", "Not one of the event's slots.");
  }
  return *slot;
}

}  // namespace

grpc::Status EventServiceImpl::AgreeEvent(grpc::ServerContext* context, const v1::AgreeEventRequest* request,
                                          v1::Event* response) {
  // Under the row lock: agrees, reopens and changes of one event queue up,
  // so each mail carries the SEQUENCE its own change set.
  IdempotentCall once{*request, request->request_id(), *response};
  return serve_locked_write(
      context, "AgreeEvent", request->id(), Action::kAgree, expected_version_of(*request),
      [&](Repositories& stores, const Caller& caller, const EventRecord& event) -> absl::Status {
        const auto slot = read_agreed_slot(*request, event);
        if (!slot.ok()) {
          return slot.status();
        }
        if (event.agreed_slot == *slot) {
          event_to_proto(event, caller, *response);  // agreed already: nothing to change, no one to mail
          once.outcome = Outcome::kChangedNothing;
          return absl::OkStatus();
        }
        if (absl::Status budget = check_mail_limit(stores.outbox, event, caller, event.parties.size());
            !budget.ok()) {
          return budget;
        }
        const Instant now = clock_.now();
        const EventRecord agreed = stores.events.set_agreed_slot(event.id, *slot);
        append_log(stores.events, agreed, Occurrence::kAgree, caller, {{"slot", slot_json(*slot)}}, now);
        queue_calendar(stores, agreed, {.slot = *slot, .caller_request_id = calndro::request_id(*context)},
                       caller, now);
        event_to_proto(agreed, caller, *response);
        return absl::OkStatus();
      },
      &once);
}

grpc::Status EventServiceImpl::ReopenEvent(grpc::ServerContext* context,
                                           const v1::ReopenEventRequest* request, v1::Event* response) {
  return serve_locked_write(
      context, "ReopenEvent", request->id(), Action::kAgree, expected_version_of(*request),
      [&](Repositories& stores, const Caller& caller, const EventRecord& event) -> absl::Status {
        if (!event.agreed_slot) {
          return state_conflict(kEventNotAgreedReason,
                                "The event is not agreed: there is nothing to reopen.");
        }
        if (absl::Status budget = check_mail_limit(stores.outbox, event, caller, event.parties.size());
            !budget.ok()) {
          return budget;
        }
        const Instant now = clock_.now();
        const EventRecord reopened = stores.events.set_agreed_slot(event.id, std::nullopt);
        append_log(stores.events, reopened, Occurrence::kUpdate, caller, {{"reopened", true}}, now);
        queue_calendar(
            stores, reopened,
            {.cancel = true, .slot = *event.agreed_slot, .caller_request_id = calndro::request_id(*context)},
            caller, now);
        event_to_proto(reopened, caller, *response);
        return absl::OkStatus();
      });
}

}  // namespace calndro::events
