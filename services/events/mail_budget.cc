#include "events/mail_budget.h"

#include <algorithm>
#include <string>

#include "common/grpc/rich_status.h"

namespace calndro::events {

absl::Status check_mail_budget(const MailBudget& budget, const std::vector<QueuedMails>& earlier,
                               std::size_t mails, Instant now) {
  const auto limit = static_cast<std::int64_t>(budget.per_hour);
  const auto wanted = static_cast<std::int64_t>(mails);
  std::int64_t counted = 0;
  for (const QueuedMails& row : earlier) {
    counted += row.mails;
  }
  if (counted + wanted <= limit) {
    return absl::OkStatus();
  }
  const std::string rule = "At most " + std::to_string(limit) + " mails per event and sender in an hour";
  if (wanted > limit) {
    return resource_exhausted(rule + "; this request would send " + std::to_string(wanted) + ".",
                              budget.window);
  }
  // Allowed once enough of the earlier mails have left the window: the row
  // whose leaving brings the count down far enough sets the wait.
  std::chrono::seconds wait = budget.window;
  std::int64_t excess = counted + wanted - limit;
  for (const QueuedMails& row : earlier) {
    excess -= row.mails;
    if (excess <= 0) {
      wait = std::max(std::chrono::ceil<std::chrono::seconds>(row.at + budget.window - now),
                      std::chrono::seconds(1));
      break;
    }
  }
  return resource_exhausted(rule + "; try again in " + std::to_string(wait.count()) + " seconds.", wait);
}

}  // namespace calndro::events
