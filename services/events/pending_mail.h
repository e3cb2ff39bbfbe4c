#pragma once

#include <string>
#include <vector>

#include "calndro/notify/v1/notify.pb.h"
#include "common/crypto/crypto.h"
#include "events/stores.h"

namespace calndro::events {

// The outbox row of mails about `event` to `recipients` that `caused_by`
// caused (their hourly budget), with a new id "ev-<event>-<tag><random>"
// (the notification service's idempotency key), and the head of its request
// into `queue`. Notify, calendar and deadline mails each add the rest.
inline PendingNotification new_pending_mail(RandomSource& random, const EventRecord& event,
                                            const std::string& tag,
                                            const std::vector<std::string>& recipients,
                                            const std::string& caused_by,
                                            notify::v1::QueueNotificationsRequest& queue) {
  PendingNotification pending;
  pending.id = "ev-" + std::to_string(event.id) + "-" + tag + random_hex(random, 16);
  pending.event_id = event.id;
  pending.recipients = recipients;
  pending.caused_by = caused_by;
  queue.set_request_id(pending.id);
  queue.set_event_id(event.id);
  queue.set_event_title(event.title);
  for (const std::string& recipient : recipients) {
    queue.add_recipients(recipient);
  }
  return pending;
}

}  // namespace calndro::events
