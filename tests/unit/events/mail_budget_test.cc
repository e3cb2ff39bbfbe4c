#include "events/mail_budget.h"

#include <gtest/gtest.h>

#include "common/grpc/rich_status.h"

// SPEC §7's hourly mail limit as a rule over the outbox rows a caller
// caused: what fits, and how long a refused request waits.
namespace calndro::events {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

const Instant kNow{std::chrono::hours(24 * 365 * 56)};

std::chrono::seconds retry_after(const absl::Status& status) {
  return decode_details(status).retry_after.value_or(seconds(-1));
}

TEST(MailBudget, CountsEveryRowsRecipientsUpToTheLimit) {
  const MailBudget budget{.per_hour = 10};
  const std::vector<QueuedMails> earlier = {{kNow - minutes(50), 3}, {kNow - minutes(20), 4}};
  EXPECT_TRUE(check_mail_budget(budget, earlier, 3, kNow).ok());
  const absl::Status over = check_mail_budget(budget, earlier, 4, kNow);
  EXPECT_EQ(over.code(), absl::StatusCode::kResourceExhausted) << over;
  EXPECT_TRUE(check_mail_budget(budget, {}, 10, kNow).ok());
}

// The wait ends when the row whose leaving makes room has left the hour:
// here 4 more need the first row (3 mails) gone, 7 more the second too.
TEST(MailBudget, ARefusalWaitsUntilEnoughEarlierMailsHaveLeftTheHour) {
  const MailBudget budget{.per_hour = 10};
  const std::vector<QueuedMails> earlier = {{kNow - minutes(50), 3}, {kNow - minutes(20), 4}};
  EXPECT_EQ(retry_after(check_mail_budget(budget, earlier, 4, kNow)), minutes(10));
  EXPECT_EQ(retry_after(check_mail_budget(budget, earlier, 6, kNow)), minutes(10));
  EXPECT_EQ(retry_after(check_mail_budget(budget, earlier, 7, kNow)), minutes(40));
  // Never less than a second, even when the row is about to leave.
  const std::vector<QueuedMails> leaving = {{kNow - minutes(60) + std::chrono::milliseconds(1), 10}};
  EXPECT_EQ(retry_after(check_mail_budget(budget, leaving, 1, kNow)), seconds(1));
}

TEST(MailBudget, ARequestLargerThanTheLimitIsRefusedNamingItsSize) {
  const MailBudget budget{.per_hour = 5};
  const absl::Status alone = check_mail_budget(budget, {}, 6, kNow);
  EXPECT_EQ(alone.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(alone.message().find("would send 6"), std::string_view::npos) << alone;
  EXPECT_EQ(retry_after(alone), std::chrono::hours(1));
}

}  // namespace
}  // namespace calndro::events
