#include "events/event_service.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <stdexcept>

#include <google/protobuf/util/json_util.h>

#include "common/email.h"
#include "common/grpc_channel.h"
#include "common/icalendar.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/proto_time.h"
#include "common/rich_status.h"
#include "common/rpc_call.h"
#include "common/time_format.h"
#include "events/caller_address.h"
#include "events/event_calendar.h"
#include "events/event_checks.h"
#include "events/event_mapping.h"
#include "events/mail_budget.h"
#include "events/paging.h"
#include "events/preconditions.h"
#include "events/request_validation.h"
#include "events/title_generator.h"

namespace calndro::events {
namespace {

Credentials credentials_from(const grpc::ServerContext& context, std::string_view internal_token) {
  Credentials credentials;
  credentials.authorization = metadata_value(context, "authorization");
  credentials.email_token = metadata_value(context, "x-email-token");
  credentials.request_id = calndro::request_id(context);
  // The gateway's HTTP client with the internal credential, else the peer.
  credentials.client_address = caller_address(context, internal_token);
  return credentials;
}

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
  std::vector<std::string> recipients = validate_parties(request.parties(), violations, /*required=*/true);
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

EventServiceImpl::EventServiceImpl(Database& database, Authenticator& authenticator,
                                   NotificationClient& notifications, const Clock& clock,
                                   RandomSource& random, EventServiceOptions options)
    : database_(database),
      authenticator_(authenticator),
      notifications_(notifications),
      clock_(clock),
      random_(random),
      options_(options),
      idempotency_(clock, options.idempotency_window) {}

Credentials EventServiceImpl::read_credentials(const grpc::ServerContext& context) const {
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
    const absl::Status status = authenticator_.run_as_caller(
        credentials, keyed ? Atomicity::kTransaction : atomicity, authorized_act);
    if (status.ok() && replayed) {
      context->AddInitialMetadata(kReplayedMetadata, "true");
    }
    return status;
  });
}

absl::StatusOr<EventRecord> EventServiceImpl::load_authorized(EventRepository& events, std::int64_t id,
                                                              Action action, const Caller& caller, bool lock,
                                                              bool allow_deleted) {
  if (id <= 0) {
    return absl::NotFoundError(kNotFound);
  }
  auto event = events.load(id, lock);
  if (!event || (event->deleted && !allow_deleted)) {
    return absl::NotFoundError(kNotFound);
  }
  const Relation relation = caller.relation_to(&*event);
  if (event->deleted && relation != Relation::kStaff) {
    return absl::NotFoundError(kNotFound);
  }
  if (decide(action, relation) != Decision::kAllow) {
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
        auto loaded =
            load_authorized(stores.events, id, access.action, caller, access.lock, access.allow_deleted);
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
  const grpc::Status status = serve_on_event(
      context, method, Atomicity::kTransaction, id, {action, /*lock=*/true},
      [&](Repositories& stores, const Caller& caller, const EventRecord& event) -> absl::Status {
        if (absl::Status current = check_event_version(expected_version, event); !current.ok()) {
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

PendingNotification EventServiceImpl::new_pending(const EventRecord& event,
                                                  const std::vector<std::string>& recipients,
                                                  const std::string& sender, const Caller& caller,
                                                  calndro::notify::v1::QueueNotificationsRequest& queue) {
  PendingNotification pending;
  pending.id = "ev-" + std::to_string(event.id) + "-" + random_hex(random_, 16);
  pending.event_id = event.id;
  pending.recipients = recipients;
  pending.caused_by = caller.email;
  queue.set_request_id(pending.id);
  queue.set_event_id(event.id);
  queue.set_event_title(event.title);
  queue.set_sender(sender);
  for (const auto& recipient : recipients) {
    queue.add_recipients(recipient);
  }
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
  queue.set_link_base_url(mail.link_base_url);
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
  queue.set_link_base_url(request.link_base_url());
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

absl::StatusOr<VerifiedPassword> EventServiceImpl::verify_login(const Credentials& credentials,
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
  if (absl::Status screened = authenticator_.screen(login, credentials.client_address); !screened.ok()) {
    return screened;
  }
  std::optional<User> user;
  (void)database_.run(Atomicity::kPerStatement, [&](Repositories& stores) {
    user = stores.users.find_by_login(login.login);
    return absl::OkStatus();
  });
  return authenticator_.check_password(login, credentials.client_address, user, refusal);
}

grpc::Status EventServiceImpl::CreateApiToken(grpc::ServerContext* context,
                                              const v1::CreateApiTokenRequest* request,
                                              v1::CreateApiTokenResponse* response) {
  return serve_rpc(*context, "CreateApiToken",
                   [&] { return mint_api_token(read_credentials(*context), *request, *response); });
}

absl::Status EventServiceImpl::mint_api_token(const Credentials& credentials,
                                              const v1::CreateApiTokenRequest& request,
                                              v1::CreateApiTokenResponse& response) {
  const std::string refusal = "Unable to log in with provided credentials.";
  const auto verified = verify_login(credentials, request, refusal);
  if (!verified.ok()) {
    return verified.status();
  }
  const std::string token = random_hex(random_, 20);
  const Instant expires = clock_.now() + options_.api_token_lifetime;
  bool minted = false;
  (void)database_.run(Atomicity::kPerStatement, [&](Repositories& stores) {
    // Only while the password is still the one just verified and the user
    // still active: a change in between revoked every key.
    minted = stores.users.add_api_token(verified->user_id, verified->stored_hash, sha256_hex(token), expires);
    return absl::OkStatus();
  });
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
        credentials, Atomicity::kPerStatement, [&](Repositories& stores, const Caller&) -> absl::Status {
          if (!stores.users.revoke_api_token(sha256_hex(*token))) {
            return absl::UnauthenticatedError("Invalid token.");  // revoked meanwhile
          }
          return absl::OkStatus();
        });
  });
}

}  // namespace calndro::events
