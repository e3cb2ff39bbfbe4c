#include "events/outbox_relay.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>

#include "common/base/log.h"
#include "common/base/status_macros.h"

namespace calndro::events {
namespace {

// Statuses after which the same request, sent again, may succeed.
bool worth_retrying(const absl::Status& status) {
  return !absl::IsInvalidArgument(status) && !absl::IsAlreadyExists(status);
}

}  // namespace

OutboxRelay::OutboxRelay(Database& database, NotificationClient& notifications, const Clock& clock,
                         OutboxRelayOptions options, Driver driver)
    : database_(database), notifications_(notifications), clock_(clock), options_(options) {
  // A failed round is left to the next tick: an unclaimed row is still due,
  // and a row whose hand-over went unrecorded is claimed again once its
  // lease ends (the notification service deduplicates by id).
  if (driver == Driver::kOwnThread) {
    rounds_.emplace(
        BackgroundRounds::Options{
            .what = "notification relay", .pause = options_.poll, .batch = options_.batch},
        [this] { return relay_once(); });
  }
}

void OutboxRelay::wake() {
  if (rounds_) {
    rounds_->wake();
  }
}

absl::StatusOr<int> OutboxRelay::relay_once() {
  std::vector<PendingNotification> claimed;
  const Instant now = clock_.now();
  CALNDRO_RETURN_IF_ERROR(
      database_.run(CallContext::background(), Atomicity::kPerStatement, [&](Repositories& stores) {
        claimed = stores.outbox.claim_due(now, now + options_.lease, options_.batch);
        return absl::OkStatus();
      }));
  // Every claimed row is handed over even when recording one failed: the
  // first failure is reported once all were tried.
  absl::Status recorded;
  for (const auto& notification : claimed) {
    recorded.Update(hand_over(notification));
  }
  CALNDRO_RETURN_IF_ERROR(recorded);
  return static_cast<int>(claimed.size());
}

absl::Status OutboxRelay::hand_over(const PendingNotification& notification) {
  calndro::notify::v1::QueueNotificationsRequest request;
  absl::Status status;
  // A row queued by an older release may name a field since removed
  // (linkBaseUrl): its mail still goes out, without it.
  google::protobuf::util::JsonParseOptions tolerant;
  tolerant.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(notification.request, &request, tolerant).ok()) {
    status = absl::InvalidArgumentError("stored request is not a QueueNotificationsRequest");
  } else {
    request.set_request_id(notification.id);
    if (notification.audit_head) {
      request.mutable_audit_head()->set_seq(notification.audit_head->seq);
      request.mutable_audit_head()->set_hash(notification.audit_head->hash);
    }
    calndro::notify::v1::QueueNotificationsResponse response;
    // The notify's own request id, when it had one, names the call in the
    // logs; the body's request_id (the stable id) is what deduplicates.
    const std::string& trace =
        notification.caller_request_id.empty() ? notification.id : notification.caller_request_id;
    status = notifications_.queue_notifications(request, trace, response);
  }
  return settle(notification, status);
}

absl::Status OutboxRelay::settle(const PendingNotification& notification, const absl::Status& status) {
  const Instant now = clock_.now();
  const std::string error(status.message());
  if (!status.ok()) {
    log::warn("notification not handed over", {{"id", notification.id},
                                               {"code", static_cast<int>(status.code())},
                                               {"attempts", notification.attempts + 1},
                                               {"message", error}});
  }
  std::chrono::seconds backoff(1);
  for (int i = 0; i < notification.attempts && backoff < options_.max_backoff; ++i) {
    backoff *= 2;
  }
  backoff = std::min(backoff, options_.max_backoff);
  return database_.run(CallContext::background(), Atomicity::kPerStatement, [&](Repositories& stores) {
    if (status.ok()) {
      stores.outbox.mark_handed_over(notification.id, now);
    } else if (worth_retrying(status)) {
      stores.outbox.retry_at(notification.id, now + backoff, error);
    } else {
      stores.outbox.mark_refused(notification.id, now, error);
    }
    return absl::OkStatus();
  });
}

}  // namespace calndro::events
