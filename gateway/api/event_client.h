#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "calndro/events/v1/events.grpc.pb.h"

// The gateway's only way to the event service: one shared channel and stub;
// every call gets the configured deadline and the caller's metadata. A
// transport failure is retried once (a broken connection must not become
// some other caller's 503): any call that was never sent, and the reads
// (list, get, log) whatever the failure; a write that may have run is not
// repeated.
namespace calndro::gateway {

namespace v1 = calndro::events::v1;

// What the gateway forwards as gRPC metadata (docs/ARCHITECTURE.md).
// Empty values are not sent. Values must be printable ASCII (the router
// checks that before calling: gRPC rejects anything else).
struct CallMetadata {
  std::string authorization;  // "authorization": the HTTP header verbatim
  std::string email_token;    // "x-email-token"
  std::string request_id;     // "x-request-id"
  // "x-calndro-client-addr": chosen by the gateway (gateway/api/client_address.h),
  // never a value a client sent.
  std::string client_address;
};

// What an answer said besides its message.
struct CallInfo {
  // The service answered a repeated idempotency key with the first answer
  // (response metadata x-idempotent-replayed: true).
  bool replayed = false;
};

// Whether a call waits for a connection to the service (a retry after a
// broken one) or fails at once when there is none.
enum class WaitForReady { kNo, kYes };

// The calls on gRPC's callback API that have not yet released their
// ClientContext. gRPC 1.51 runs their callbacks on threads of a shared
// completion queue that the last channel using it shuts down, joining those
// threads: were a call's context (which holds the channel) the channel's
// last owner, its release on one of those threads would join that thread
// from itself. So the client outlives its calls: it waits for them.
class OpenCalls {
 public:
  // Held by a call object, declared before its ClientContext (released after it).
  class Ticket {
   public:
    explicit Ticket(OpenCalls& calls);
    ~Ticket();
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;

   private:
    OpenCalls& calls_;
  };

  // True when none is left within `limit`.
  bool wait_until_none(std::chrono::milliseconds limit);

 private:
  std::mutex mutex_;
  std::condition_variable none_;
  std::size_t open_ = 0;
};

// What a failed call says about whether it reached the service.
enum class CallFailure {
  kNone,       // not a transport failure: the service answered (or it is not UNAVAILABLE)
  kNotSent,    // no connection could be used: the service never saw the call
  kMaybeSent,  // the connection broke during the call: it may have run
};
// gRPC's own UNAVAILABLE texts; a service's UNAVAILABLE ("The database is
// unavailable; ...") is never a transport failure: it may have committed.
CallFailure classify_failure(const grpc::Status& status);

class EventClient {
 public:
  // `internal_token` goes with every call (metadata x-calndro-internal): only
  // then does the event service count a login under the HTTP client's
  // address that CallMetadata names (SPEC §2). Empty: not sent.
  EventClient(std::shared_ptr<grpc::Channel> channel, std::chrono::milliseconds timeout,
              std::string internal_token = "");
  // Waits (a few seconds at most) for the calls still under way (OpenCalls).
  ~EventClient();
  EventClient(const EventClient&) = delete;
  EventClient& operator=(const EventClient&) = delete;

  // A round_robin channel to the gRPC target `address` (see
  // common/grpc/grpc_channel.h: one replica or several); connects lazily.
  static std::unique_ptr<EventClient> connect(const std::string& address, std::chrono::milliseconds timeout,
                                              std::string internal_token = "");

  grpc::Status list_events(const CallMetadata& meta, const v1::ListEventsRequest& request,
                           v1::ListEventsResponse* response);
  // A write with a request_id (an idempotency key) is retried like a read:
  // the service answers a repeat without acting again. `info` (optional)
  // learns whether the answer was such a replay.
  grpc::Status create_event(const CallMetadata& meta, const v1::CreateEventRequest& request,
                            v1::Event* response, CallInfo* info = nullptr);
  grpc::Status get_event(const CallMetadata& meta, const v1::GetEventRequest& request, v1::Event* response);
  grpc::Status update_event(const CallMetadata& meta, const v1::UpdateEventRequest& request,
                            v1::Event* response);
  grpc::Status delete_event(const CallMetadata& meta, const v1::DeleteEventRequest& request);
  grpc::Status notify_parties(const CallMetadata& meta, const v1::NotifyPartiesRequest& request,
                              v1::NotifyPartiesResponse* response, CallInfo* info = nullptr);
  grpc::Status get_event_log(const CallMetadata& meta, const v1::GetEventLogRequest& request,
                             v1::EventLog* response);
  grpc::Status agree_event(const CallMetadata& meta, const v1::AgreeEventRequest& request,
                           v1::Event* response, CallInfo* info = nullptr);
  grpc::Status reopen_event(const CallMetadata& meta, const v1::ReopenEventRequest& request,
                            v1::Event* response);
  // A whole set of answers, replaced: sent again, it changes nothing, so
  // it is retried like a read unless it names the version it expects.
  grpc::Status answer_slots(const CallMetadata& meta, const v1::AnswerSlotsRequest& request,
                            v1::Event* response);
  grpc::Status get_event_calendar(const CallMetadata& meta, const v1::GetEventCalendarRequest& request,
                                  v1::EventCalendar* response);
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  grpc::Status create_api_token(const CallMetadata& meta, const v1::CreateApiTokenRequest& request,
                                v1::CreateApiTokenResponse* response);
  grpc::Status revoke_api_token(const CallMetadata& meta, const v1::RevokeApiTokenRequest& request);
  grpc::Status get_log_key(const CallMetadata& meta, v1::LogKey* response);
  // Webhooks (SPEC §11).
  grpc::Status create_webhook(const CallMetadata& meta, const v1::CreateWebhookRequest& request,
                              v1::Webhook* response);
  grpc::Status list_webhooks(const CallMetadata& meta, const v1::ListWebhooksRequest& request,
                             v1::ListWebhooksResponse* response);
  grpc::Status delete_webhook(const CallMetadata& meta, const v1::DeleteWebhookRequest& request);
  grpc::Status list_webhook_deliveries(const CallMetadata& meta,
                                       const v1::ListWebhookDeliveriesRequest& request,
                                       v1::ListWebhookDeliveriesResponse* response);
  // Starts WatchEvent on gRPC's callback API, so no thread waits on a
  // stream: `reactor` then drives it (StartRead, StartCall) and learns its
  // end. The caller's metadata, and no deadline: a stream lasts as long as
  // its client stays. `context` and `request` must outlive the call.
  void watch_event(grpc::ClientContext& context, const CallMetadata& meta,
                   const v1::WatchEventRequest& request, grpc::ClientReadReactor<v1::EventChange>* reactor,
                   WaitForReady wait);
  // How long a call may take: the deadline of unary calls, and how long a
  // stream may take to send its first message.
  std::chrono::milliseconds timeout() const { return timeout_; }
  // For each call object on the callback API to hold (OpenCalls::Ticket).
  OpenCalls& open_calls() { return open_calls_; }

 private:
  void prepare(grpc::ClientContext& context, const CallMetadata& meta,
               std::chrono::system_clock::time_point deadline) const;
  // Runs `call(context)` and once more on a transport failure that allows it.
  template <typename Call>
  grpc::Status with_retry(const CallMetadata& meta, bool repeatable, Call call) const;
  // One unary call through the stub's `method`, with with_retry's rule.
  // `info`, when given, learns what the answer's metadata said.
  template <typename Request, typename Response>
  grpc::Status unary(const CallMetadata& meta, bool repeatable,
                     grpc::Status (v1::EventService::Stub::*method)(grpc::ClientContext*, const Request&,
                                                                    Response*),
                     const Request& request, Response* response, CallInfo* info = nullptr) const;

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::EventService::Stub> stub_;
  std::chrono::milliseconds timeout_;
  std::string internal_token_;
  OpenCalls open_calls_;
};

}  // namespace calndro::gateway
