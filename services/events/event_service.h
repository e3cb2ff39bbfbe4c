#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>

#include "calndro/events/v1/events.grpc.pb.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/db_pool.h"
#include "events/authenticator.h"
#include "events/known_users.h"

namespace calndro::events {

struct EventServiceOptions {
  // How long an API key works after it is minted (CALNDRO_API_TOKEN_DAYS).
  std::chrono::hours api_token_lifetime{24 * 30};
  // Mails one sender may send about one event in an hour (SPEC §7).
  int notify_mails_per_hour = 100;
};

// The RPCs of calndro.events.v1.EventService. Every call authenticates from
// metadata, checks SPEC §2, validates, and commits its change together with
// its audit-log entry (one transaction, mostly one statement). Dependencies
// come in through the constructor; main.cc only wires them.
class EventServiceImpl final : public calndro::events::v1::EventService::Service {
 public:
  EventServiceImpl(DbPool& pool, Authenticator& authenticator, NotificationClient& notifications,
                   const Clock& clock, RandomSource& random, EventServiceOptions options = {});

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
  grpc::Status CreateApiToken(grpc::ServerContext* context, const v1::CreateApiTokenRequest* request,
                              v1::CreateApiTokenResponse* response) override;
  grpc::Status RevokeApiToken(grpc::ServerContext* context, const v1::RevokeApiTokenRequest* request,
                              google::protobuf::Empty* response) override;

 private:
  // Transaction: every statement of the call commits together (writes with
  // more than one statement, or reads that must agree with a write).
  // PerStatement: each statement commits on its own, which saves the BEGIN
  // and COMMIT round trips; for calls whose change, if any, is one statement
  // (run through committing_on_its_own), with at most idempotent writes
  // before it.
  enum class Atomicity { Transaction, PerStatement };
  using Work = std::function<void(pqxx::transaction_base& tx, const Credentials& credentials)>;
  using AuthenticatedWork =
      std::function<void(pqxx::transaction_base& tx, const Caller& caller, const Credentials& credentials)>;
  // Runs `body` and turns every failure into a precise status (and one log
  // line per call).
  grpc::Status guarded(grpc::ServerContext* context, const char* method,
                       const std::function<void(const Credentials&)>& body);
  // Runs `work` on one pooled connection as `atomicity` says, and commits.
  void in_connection(Atomicity atomicity, const std::function<void(pqxx::transaction_base&)>& work);
  // Runs `work` on one connection as `atomicity` says, commits, and turns
  // every failure into a precise status (and one log line per call).
  grpc::Status run(grpc::ServerContext* context, const char* method, Atomicity atomicity, const Work& work);
  // As run(), after authenticating the caller. A password that needs an
  // argon2id check is checked with no connection held.
  grpc::Status run_authenticated(grpc::ServerContext* context, const char* method, Atomicity atomicity,
                                 const AuthenticatedWork& work);

  // Loads a live event (or, with allow_deleted, a deleted one too) and checks
  // `action` for `caller`: NOT_FOUND, then PERMISSION_DENIED.
  EventRecord load_authorized(pqxx::transaction_base& tx, std::int64_t id, Action action,
                              const Caller& caller, bool lock, bool allow_deleted = false);
  // RESOURCE_EXHAUSTED when `mails` more would pass the caller's hourly
  // limit for this event.
  void check_notify_limit(pqxx::transaction_base& tx, const EventRecord& event, const Caller& caller,
                          std::size_t mails);
  void append_log(pqxx::transaction_base& tx, const EventRecord& event, Occurrence occurrence,
                  const Caller& caller, nlohmann::json data);

  DbPool& pool_;
  Authenticator& authenticator_;
  NotificationClient& notifications_;
  const Clock& clock_;
  RandomSource& random_;
  const EventServiceOptions options_;
  KnownUsers known_users_{10000};
};

}  // namespace calndro::events
