#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "common/text/clock.h"
#include "events/stores.h"

// SPEC §7's hourly mail limit: every mail a request causes (a notify, the
// invitation or cancellation of an agree, a reopen, a deletion or a new title
// of an agreed event) counts against the caller who caused it and the event.
// The count comes from the outbox rows that queued those mails, read under
// the event's row lock (docs/ARCHITECTURE.md, "The hourly mail limit").
namespace calndro::events {

struct MailBudget {
  int per_hour = 100;
  std::chrono::seconds window = std::chrono::hours(1);
};

// OK when `mails` more, caused at `now`, stay within `budget` beside
// `earlier` (what the same caller caused for the same event since
// now - budget.window, oldest first). Otherwise RESOURCE_EXHAUSTED whose
// RetryInfo (REST Retry-After) is the wait until enough of `earlier` has
// left the window; a request that alone needs more than the budget waits
// a whole window and names its size.
[[nodiscard]] absl::Status check_mail_budget(const MailBudget& budget,
                                             const std::vector<QueuedMails>& earlier, std::size_t mails,
                                             Instant now);

}  // namespace calndro::events
