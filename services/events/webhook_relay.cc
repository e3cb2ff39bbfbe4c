#include "events/webhook_relay.h"

#include "common/base/log.h"
#include "common/base/status_macros.h"
#include "common/text/proto_time.h"
#include "common/text/time_format.h"
#include "events/event_mapping.h"
#include "gateway/api/json_mapping.h"

namespace calndro::events {

namespace notify_v1 = calndro::notify::v1;

std::string webhook_message_body(const WebhookOccurrence& occurrence, const EventRecord& event,
                                 const std::string& base) {
  std::string data;
  if (occurrence.type == "event.deleted") {
    data = R"({"id":)" + std::to_string(occurrence.event_id) + "}";
  } else {
    // The creator's view: every answer, even of an event that hides them
    // from the other parties.
    Caller creator;
    creator.user_id = occurrence.creator_id;
    creator.email = event.creator;
    v1::Event rendered;
    event_to_proto(event, creator, rendered);
    data = calndro::gateway::event_body(rendered, base);
  }
  return R"({"type":")" + occurrence.type + R"(","timestamp":")" + format_instant(occurrence.occurred_at) +
         R"(","version":)" + std::to_string(occurrence.version) + R"(,"data":)" + data + "}";
}

WebhookRelay::WebhookRelay(Database& database, WebhookEndpoints& endpoints, WebhookRelayOptions options,
                           Driver driver)
    : database_(database), endpoints_(endpoints), options_(std::move(options)) {
  if (driver == Driver::kOwnThread) {
    rounds_.emplace(
        BackgroundRounds::Options{.what = "webhook relay", .pause = options_.poll, .batch = options_.batch},
        [this] { return relay_once(); });
  }
}

absl::StatusOr<int> WebhookRelay::relay_once() {
  int handed_over = 0;
  CALNDRO_RETURN_IF_ERROR(database_.run(
      CallContext::background(), Atomicity::kTransaction, [&](Repositories& stores) -> absl::Status {
        handed_over = 0;
        if (!stores.webhooks.lock_relay()) {
          return absl::OkStatus();  // another replica's relay is at it
        }
        std::vector<EventRecord> events;
        const std::vector<WebhookOccurrence> occurrences =
            stores.webhooks.oldest_occurrences(options_.batch, events);
        if (occurrences.empty()) {
          return absl::OkStatus();
        }
        notify_v1::QueueWebhookMessagesRequest request;
        std::vector<std::int64_t> ids;
        for (std::size_t i = 0; i < occurrences.size(); ++i) {
          const WebhookOccurrence& occurrence = occurrences[i];
          notify_v1::WebhookMessage& message = *request.add_messages();
          message.set_message_id("msg_" + std::to_string(occurrence.id));
          message.set_webhook_id(occurrence.webhook_id);
          message.set_event_id(occurrence.event_id);
          message.set_sequence(occurrence.id);
          message.set_type(occurrence.type);
          message.set_version(occurrence.version);
          *message.mutable_occurred_at() = instant_to_proto(occurrence.occurred_at);
          message.set_body(webhook_message_body(occurrence, events[i], options_.public_base_url));
          ids.push_back(occurrence.id);
        }
        CALNDRO_RETURN_IF_ERROR(hand_over(request));
        stores.webhooks.delete_occurrences(ids);
        handed_over = static_cast<int>(ids.size());
        return absl::OkStatus();
      }));
  return handed_over;
}

absl::Status WebhookRelay::hand_over(const notify_v1::QueueWebhookMessagesRequest& request) {
  notify_v1::QueueWebhookMessagesResponse response;
  absl::Status status = endpoints_.queue_messages(request, response);
  if (status.code() != absl::StatusCode::kInvalidArgument) {
    return status;
  }
  // One message the notification service will never take would hold back
  // every later one, of every webhook: find it, drop it, say so.
  for (const notify_v1::WebhookMessage& message : request.messages()) {
    notify_v1::QueueWebhookMessagesRequest single;
    *single.add_messages() = message;
    absl::Status alone = endpoints_.queue_messages(single, response);
    if (alone.code() == absl::StatusCode::kInvalidArgument) {
      log::error("webhook message refused as invalid; dropped", {{"message_id", message.message_id()},
                                                                 {"webhook_id", message.webhook_id()},
                                                                 {"event_id", message.event_id()},
                                                                 {"error", std::string(alone.message())}});
    } else if (!alone.ok()) {
      return alone;
    }
  }
  return absl::OkStatus();
}

}  // namespace calndro::events
