#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <string_view>

#include "absl/status/statusor.h"
#include "calndro/events/v1/events.grpc.pb.h"
#include "calndro/notify/v1/notify.pb.h"
#include "common/crypto/crypto.h"
#include "common/text/clock.h"
#include "events/authenticator.h"
#include "events/event_streams.h"
#include "events/idempotency.h"
#include "events/known_users.h"
#include "events/stores.h"
#include "events/webhook_endpoints.h"

namespace calndro::events {

struct EventServiceOptions {
  // How long an API key works after it is minted (CALNDRO_API_TOKEN_DAYS).
  std::chrono::hours api_token_lifetime{24 * 30};
  // Mails one caller may cause about one event in an hour (SPEC §7):
  // notifies and calendar mails alike (mail_budget.h).
  int mails_per_hour = 100;
  // How long an idempotency key's answer is replayed (SPEC §3: 24 hours).
  std::chrono::seconds idempotency_window = std::chrono::hours(24);
  // Called after a notify committed (its mails are in the outbox): wakes
  // the relay (outbox_relay.h).
  std::function<void()> notify_committed = [] {};
  // The internal credential (CALNDRO_INTERNAL_TOKEN): only a call carrying
  // it names its HTTP client's address (events/caller_address.h).
  std::string internal_token;
  // CALNDRO_PUBLIC_BASE_URL (checked at start-up): the base of the event's
  // URL in GetEventCalendar's document; empty: the document has none. Never
  // taken from a caller: no Host crosses the services.
  std::string public_base_url;
  // What GetLogKey publishes: the public half of the key that signs the
  // log heads (main.cc loads it; log_sealer.h signs with it).
  v1::LogKey log_key;
  // The notification service's webhook side (SPEC §11), for the webhook
  // RPCs (event_webhooks.cc); nullptr: they answer UNAVAILABLE.
  WebhookEndpoints* webhook_endpoints = nullptr;
};

// The RPCs of calndro.events.v1.EventService. Every call authenticates from
// metadata, checks SPEC §2, validates, and commits its change together with
// its audit-log entry (one transaction, mostly one statement). Dependencies
// come in through the constructor; main.cc only wires them.
// Each RPC's body returns an absl::Status; common/rpc/rpc_call.h's serve_rpc
// turns it (or a database exception) into the wire status.
// One class, its RPCs defined in a file per use case (events_read.cc,
// event_changes.cc, event_agreement.cc, event_answers.cc, event_notify.cc,
// api_tokens.cc; GetEventLog and GetLogKey in events_read.cc) on
// the serving path of event_service.cc; the private members below are
// grouped by the file that defines them.
class EventServiceImpl final
    : public v1::EventService::WithAsyncMethod_WatchEvent<v1::EventService::Service> {
 public:
  EventServiceImpl(Database& database, Authenticator& authenticator, const Clock& clock, RandomSource& random,
                   const EventServiceOptions& options = {});

  grpc::Status ListEvents(grpc::ServerContext* context, const v1::ListEventsRequest* request,
                          v1::ListEventsResponse* response) override;
  grpc::Status CreateEvent(grpc::ServerContext* context, const v1::CreateEventRequest* request,
                           v1::Event* response) override;
  grpc::Status GetEvent(grpc::ServerContext* context, const v1::GetEventRequest* request,
                        v1::Event* response) override;
  grpc::Status UpdateEvent(grpc::ServerContext* context, const v1::UpdateEventRequest* request,
                           v1::Event* response) override;
  grpc::Status DeleteEvent(grpc::ServerContext* context, const v1::DeleteEventRequest* request,
                           google::protobuf::Empty* response) override;
  grpc::Status NotifyParties(grpc::ServerContext* context, const v1::NotifyPartiesRequest* request,
                             v1::NotifyPartiesResponse* response) override;
  grpc::Status GetEventLog(grpc::ServerContext* context, const v1::GetEventLogRequest* request,
                           v1::EventLog* response) override;
  grpc::Status GetEventCalendar(grpc::ServerContext* context, const v1::GetEventCalendarRequest* request,
                                v1::EventCalendar* response) override;
  grpc::Status CreateApiToken(grpc::ServerContext* context, const v1::CreateApiTokenRequest* request,
                              v1::CreateApiTokenResponse* response) override;
  grpc::Status RevokeApiToken(grpc::ServerContext* context, const v1::RevokeApiTokenRequest* request,
                              google::protobuf::Empty* response) override;
  grpc::Status AgreeEvent(grpc::ServerContext* context, const v1::AgreeEventRequest* request,
                          v1::Event* response) override;
  grpc::Status ReopenEvent(grpc::ServerContext* context, const v1::ReopenEventRequest* request,
                           v1::Event* response) override;
  grpc::Status AnswerSlots(grpc::ServerContext* context, const v1::AnswerSlotsRequest* request,
                           v1::Event* response) override;
  grpc::Status GetLogKey(grpc::ServerContext* context, const v1::GetLogKeyRequest* request,
                         v1::LogKey* response) override;
  grpc::Status CreateWebhook(grpc::ServerContext* context, const v1::CreateWebhookRequest* request,
                             v1::Webhook* response) override;
  grpc::Status ListWebhooks(grpc::ServerContext* context, const v1::ListWebhooksRequest* request,
                            v1::ListWebhooksResponse* response) override;
  grpc::Status DeleteWebhook(grpc::ServerContext* context, const v1::DeleteWebhookRequest* request,
                             google::protobuf::Empty* response) override;
  grpc::Status ListWebhookDeliveries(grpc::ServerContext* context,
                                     const v1::ListWebhookDeliveriesRequest* request,
                                     v1::ListWebhookDeliveriesResponse* response) override;
  // WatchEvent is on gRPC's async API (watch_serving.h serves it); what
  // its streams need of the service:

  // The caller's credentials and address from the call's metadata.
  Credentials read_credentials(const grpc::ServerContextBase& context) const;
  // What one of WatchEvent's streams finds of event `id` as its caller
  // (event_watching.cc).
  WatchLook look_for_watch(const Credentials& credentials, std::int64_t id, LookKind kind);

 private:
  // The serving path (event_service.cc).

  // Serves `method`: authenticates the caller from metadata and runs `work`.
  grpc::Status serve_as_caller(grpc::ServerContext* context, std::string_view method, Atomicity atomicity,
                               Authenticator::CallerWork work);
  // As serve_as_caller(), in two steps: `authorize` (reads only) decides
  // whether the caller may make the call as things are now, `act` makes it.
  // With `once` carrying a key (SPEC §3 "Idempotency"), runs both in a
  // transaction and acts at most once per caller and key: a repeat, once
  // authorized, answers the first response with the metadata
  // `x-idempotent-replayed: true` (a caller who lost access gets no replay).
  grpc::Status serve_authorized(grpc::ServerContext* context, std::string_view method, Atomicity atomicity,
                                Authenticator::CallerWork authorize, Authenticator::CallerWork act,
                                const IdempotentCall* once);

  // What a call on one event finds of a deleted event: nothing (NOT_FOUND),
  // or, for staff only, the event as it was (its audit log).
  enum class DeletedEvent { kNotFound, kShownToStaff };
  // What a call on one event may do, and how it reads the event.
  struct EventAccess {
    Action action;
    RowLock lock = RowLock::kNone;
    DeletedEvent deleted = DeletedEvent::kNotFound;
  };
  using EventWork = absl::FunctionRef<absl::Status(Repositories&, const Caller&, const EventRecord&)>;
  // As serve_as_caller(), on the event `id` as load_authorized() gives it.
  // With `once`, the key is claimed after that check (a deleted event is
  // 404, a caller without access 403, replay or not) and before `work`: a
  // replay answers the first answer whatever else became of the event.
  grpc::Status serve_on_event(grpc::ServerContext* context, std::string_view method, Atomicity atomicity,
                              std::int64_t id, EventAccess access, EventWork work,
                              const IdempotentCall* once = nullptr);

  // A change that may queue mail (notify, agree, reopen, delete): a
  // transaction under the event's row lock, FAILED_PRECONDITION when
  // `expected_version` is stale; once committed, the relay is woken.
  grpc::Status serve_locked_write(grpc::ServerContext* context, std::string_view method, std::int64_t id,
                                  Action action, std::optional<std::int64_t> expected_version, EventWork work,
                                  const IdempotentCall* once = nullptr);

  // Loads the event `id` as `access` says and checks its action for
  // `caller`: NOT_FOUND, then PERMISSION_DENIED.
  absl::StatusOr<EventRecord> load_authorized(EventRepository& events, std::int64_t id,
                                              const EventAccess& access, const Caller& caller);
  void append_log(EventRepository& events, const EventRecord& event, Occurrence occurrence,
                  const Caller& caller, nlohmann::json data, std::optional<Instant> when = std::nullopt);

  // events_read.cc

  // The steps of a view: before the VIEW entry is written (a status other
  // than OK refuses the call and logs nothing) and after it.
  enum class ViewStep { kBeforeEntry, kAfterEntry };
  // What a view does with the event (as GetEvent answers it) at each step.
  using ViewWork = absl::FunctionRef<absl::Status(const v1::Event&, ViewStep step)>;
  // GetEvent's path: the access of a detail view, a VIEW entry, the event
  // into `out`; GetEventCalendar answers from the same path.
  grpc::Status view_event(grpc::ServerContext* context, std::string_view method, std::int64_t id,
                          v1::Event& out, ViewWork respond);

  // event_changes.cc

  // The validated event a CreateEvent request describes, the caller among
  // its parties.
  absl::StatusOr<EventRecord> new_event(const v1::CreateEventRequest& request, const Caller& caller);
  // Stores `event` (with its creation log entry) and sets its id.
  void store_new_event(Repositories& stores, const Caller& caller, EventRecord& event);
  // The change of an agreed event (UpdateEvent's second path): under the
  // row lock, slots are refused and a new title (the creator's or staff's
  // only) re-sends the invitation.
  grpc::Status update_agreed(grpc::ServerContext* context, const v1::UpdateEventRequest& request,
                             v1::Event& response);

  // event_notify.cc

  // Who NotifyParties mails, and as whom.
  struct Mailing {
    std::vector<std::string> recipients;
    std::string sender;
  };
  // RESOURCE_EXHAUSTED when `mails` more, caused by `caller`, would pass
  // the hourly limit for this event (SPEC §7). The caller holds the event's
  // row lock.
  absl::Status check_mail_limit(NotificationOutbox& outbox, const EventRecord& event, const Caller& caller,
                                std::size_t mails);
  // An outbox row for mails of `event` from `sender` to `recipients` that
  // `caller`'s request causes, with a new stable id (the notification
  // service's idempotency key); fills in what every such hand-over carries
  // in `queue` (id, event, sender, recipients).
  PendingNotification new_pending(const EventRecord& event, const std::vector<std::string>& recipients,
                                  const std::string& sender, const Caller& caller,
                                  calndro::notify::v1::QueueNotificationsRequest& queue);
  // The outbox row of an accepted notify, with a new stable id.
  PendingNotification pending_notification(const EventRecord& event, const Mailing& mailing,
                                           const v1::NotifyPartiesRequest& request, const Caller& caller);
  // Queues the calendar mail of `event` as it now is (its calendar_sequence
  // is the new SEQUENCE) to every party, as of `now`, caused by `caller`:
  // the log entry of the change carries the same instant (calndro-admin
  // check pairs them).
  struct CalendarMail {
    bool cancel = false;        // METHOD_CANCEL, else METHOD_REQUEST
    Slot slot;                  // the agreed slot (or the one cancelled)
    bool without_link = false;  // a deleted event's cancellation: no page to link to
    std::string caller_request_id;
  };
  void queue_calendar(Repositories& stores, const EventRecord& event, const CalendarMail& mail,
                      const Caller& caller, Instant now);

  // event_answers.cc

  // AnswerSlots' work on `event`, loaded under its row lock: the caller's
  // row of answers replaced, unless that changes nothing.
  absl::Status answer_slots(Repositories& stores, const Caller& caller, const EventRecord& event,
                            const v1::AnswerSlotsRequest& request, v1::Event& response);

  // event_webhooks.cc

  // The webhook `id` of `caller` (registered, its owner): NOT_FOUND for
  // anyone else's; PERMISSION_DENIED for an email token.
  absl::StatusOr<WebhookRecord> owned_webhook(grpc::ServerContext& context, std::int64_t id);
  // CreateWebhook's first step: the caller and the webhook to make, its id reserved.
  absl::StatusOr<WebhookRecord> plan_webhook(grpc::ServerContext& context,
                                             const v1::CreateWebhookRequest& request);

  // api_tokens.cc

  absl::Status mint_api_token(const CallContext& call, const Credentials& credentials,
                              const v1::CreateApiTokenRequest& request, v1::CreateApiTokenResponse& response);
  absl::StatusOr<VerifiedPassword> verify_login(const CallContext& call, const Credentials& credentials,
                                                const v1::CreateApiTokenRequest& request,
                                                const std::string& refusal);

  Database& database_;
  Authenticator& authenticator_;
  const Clock& clock_;
  RandomSource& random_;
  const EventServiceOptions options_;
  const Idempotency idempotency_;
  KnownUsers known_users_{10000};
};

}  // namespace calndro::events
