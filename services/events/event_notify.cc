// EventServiceImpl's mail: NotifyParties, the calendar mails of agree,
// reopen, a new title and delete, all as outbox rows, and the hourly mail
// limit they share.
#include "events/event_service.h"

#include <google/protobuf/util/json_util.h>

#include <stdexcept>

#include "common/crypto/crypto.h"
#include "common/grpc/rich_status.h"
#include "common/rpc/rpc_call.h"
#include "common/text/email.h"
#include "common/text/icalendar.h"
#include "common/text/time_slot.h"
#include "events/event_mapping.h"
#include "events/mail_budget.h"
#include "events/pending_mail.h"
#include "events/preconditions.h"
#include "events/request_validation.h"

namespace calndro::events {
namespace {

std::string request_as_json(const calndro::notify::v1::QueueNotificationsRequest& queue) {
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(queue, &json).ok()) {
    throw std::runtime_error("QueueNotificationsRequest not representable as JSON");
  }
  return json;
}

// The recipients of a NotifyParties request: parties of `event`, with the
// slots the caller saw (a stale view is refused).
std::vector<std::string> read_recipients(const v1::NotifyPartiesRequest& request, const EventRecord& event,
                                         std::vector<FieldViolation>& violations) {
  std::vector<std::string> recipients = validate_parties(request.parties(), violations, Presence::kRequired);
  for (const auto& recipient : recipients) {
    if (!event.has_party(recipient)) {
      violations.push_back({"parties", "Not in event: " + recipient});
    }
  }
  const std::size_t slot_errors = violations.size();
  const std::vector<Slot> slots = validate_slots(request.slots(), violations);
  if (violations.size() == slot_errors && slots != event.slots) {
    violations.push_back({"slots", "Mismatch with event"});
  }
  return recipients;
}

// The sender a NotifyParties request names: a party of the event or staff.
std::string read_sender(UserRepository& users, const v1::NotifyPartiesRequest& request,
                        const EventRecord& event, const Caller& caller,
                        std::vector<FieldViolation>& violations) {
  if (!request.has_sender()) {
    return caller.email;
  }
  const auto canonical = normalize_email(request.sender());
  if (!canonical.ok()) {
    violations.push_back({"sender", std::string(canonical.status().message())});
  } else if (!event.has_party(*canonical) && !users.is_staff_email(*canonical)) {
    violations.push_back({"sender", "Not a party of the event or staff: " + *canonical});
  } else {
    return *canonical;
  }
  return caller.email;
}

}  // namespace

PendingNotification EventServiceImpl::new_pending(const EventRecord& event,
                                                  const std::vector<std::string>& recipients,
                                                  const std::string& sender, const Caller& caller,
                                                  calndro::notify::v1::QueueNotificationsRequest& queue) {
  PendingNotification pending = new_pending_mail(random_, event, "", recipients, caller.email, queue);
  queue.set_sender(sender);
  return pending;
}

void EventServiceImpl::queue_calendar(Repositories& stores, const EventRecord& event,
                                      const CalendarMail& mail, const Caller& caller, Instant now) {
  namespace notify_v1 = calndro::notify::v1;
  notify_v1::QueueNotificationsRequest queue;
  // The organizer sends the invitation, whoever (the creator or staff) agreed.
  PendingNotification pending = new_pending(event, event.parties, event.creator, caller, queue);
  pending.caller_request_id = mail.caller_request_id;
  slot_to_proto(mail.slot, *queue.add_slots());
  notify_v1::CalendarInvitation& calendar = *queue.mutable_calendar();
  calendar.set_method(mail.cancel ? notify_v1::CalendarInvitation::METHOD_CANCEL
                                  : notify_v1::CalendarInvitation::METHOD_REQUEST);
  calendar.set_uid(icalendar::event_uid(event.id));
  calendar.set_sequence(event.calendar_sequence);
  slot_to_proto(mail.slot, *calendar.mutable_slot());
  calendar.set_organizer(event.creator);
  for (const auto& party : event.parties) {
    calendar.add_attendees(party);
  }
  calendar.set_without_link(mail.without_link);
  pending.request = request_as_json(queue);
  stores.outbox.add(pending, now);
}

grpc::Status EventServiceImpl::NotifyParties(grpc::ServerContext* context,
                                             const v1::NotifyPartiesRequest* request,
                                             v1::NotifyPartiesResponse* response) {
  // The row lock keeps a concurrent PATCH from changing the slots between
  // the staleness check and the log entries. The mails leave through the
  // outbox, after the commit: a notify is logged if and only if it is sent.
  // A replay (idempotency key) adds no mail and no entry.
  const IdempotentCall once{*request, request->request_id(), *response};
  return serve_locked_write(
      context, "NotifyParties", request->id(), Action::kNotify, expected_version_of(*request),
      [&](Repositories& stores, const Caller& caller, const EventRecord& event) -> absl::Status {
        std::vector<FieldViolation> violations;
        Mailing mailing;
        mailing.recipients = read_recipients(*request, event, violations);
        mailing.sender = read_sender(stores.users, *request, event, caller, violations);
        if (!violations.empty()) {
          return invalid_argument(std::move(violations));
        }
        if (absl::Status status = check_mail_limit(stores.outbox, event, caller, mailing.recipients.size());
            !status.ok()) {
          return status;
        }
        PendingNotification pending = pending_notification(event, mailing, *request, caller);
        pending.caller_request_id = calndro::request_id(*context);
        stores.outbox.add(pending, clock_.now());
        stores.webhooks.record_notified(event.id);  // SPEC §11: event.notified, in this transaction
        response->Clear();
        for (const auto& recipient : mailing.recipients) {
          nlohmann::json data = {{"recipient", recipient}, {"sender", mailing.sender}};
          if (request->invitation()) {
            data["invitation"] = true;
          }
          append_log(stores.events, event, Occurrence::kNotify, caller, std::move(data));
          response->add_parties(recipient);
        }
        slots_to_proto(event.slots, *response->mutable_slots());
        response->set_sender(mailing.sender);
        return absl::OkStatus();
      },
      &once);
}

PendingNotification EventServiceImpl::pending_notification(const EventRecord& event, const Mailing& mailing,
                                                           const v1::NotifyPartiesRequest& request,
                                                           const Caller& caller) {
  calndro::notify::v1::QueueNotificationsRequest queue;
  PendingNotification pending = new_pending(event, mailing.recipients, mailing.sender, caller, queue);
  slots_to_proto(event.slots, *queue.mutable_slots());
  queue.set_invitation(request.invitation());
  pending.request = request_as_json(queue);
  return pending;
}

absl::Status EventServiceImpl::check_mail_limit(NotificationOutbox& outbox, const EventRecord& event,
                                                const Caller& caller, std::size_t mails) {
  // Counted from the outbox under the event's row lock: every write that
  // queues mail for the event takes that lock first, so they wait for each
  // other, on any replica, and each sees what the others committed.
  const Instant now = clock_.now();
  const MailBudget budget{.per_hour = options_.mails_per_hour};
  return check_mail_budget(budget, outbox.mails_caused_since(event.id, caller.email, now - budget.window),
                           mails, now);
}

}  // namespace calndro::events
