#include <gtest/gtest.h>

#include "common/grpc/rich_status.h"
#include "notify/mail_composer.h"
#include "notify/notification_service.h"
#include "notify/outbox.h"

// The deadline mails of SPEC §9 in the notification service: what
// QueueNotifications accepts as a reminder or a summary, how the outbox
// keeps it, and what the mail says.
namespace calndro::notify {
namespace {

const std::string kToken = "0123456789abcdef0123456789abcdef01234567";
const Instant kRespondBy{std::chrono::seconds(1'900'000'000)};  // 2030-03-17T17:46:40Z
const SlotText kFirst{Instant(std::chrono::seconds(1'900'100'000)), std::chrono::minutes(30)};
const SlotText kSecond{Instant(std::chrono::seconds(1'900'200'000)), std::chrono::hours(1)};

MailRequest reminder() {
  MailRequest request;
  request.event_id = 7;
  request.title = "Lunch";
  request.sender = "owner@here.net";
  request.slots = {kFirst, kSecond};
  request.deadline = DeadlineRequest{.kind = DeadlineRequest::Kind::kReminder, .respond_by = kRespondBy};
  return request;
}

MailRequest summary() {
  MailRequest request = reminder();
  request.sender.clear();
  request.deadline->kind = DeadlineRequest::Kind::kSummary;
  request.deadline->tally = {{kFirst, 2, 1, 0, 1}, {kSecond, 0, 0, 3, 1}};
  request.deadline->best_slot = kFirst;
  return request;
}

v1::QueueNotificationsRequest wire_summary() {
  v1::QueueNotificationsRequest request;
  request.set_request_id("ev-7-summary-00");
  request.set_event_id(7);
  request.set_event_title("Lunch");
  request.add_recipients("Owner@Here.net");
  v1::DeadlineMail& deadline = *request.mutable_deadline();
  deadline.set_kind(v1::DeadlineMail::KIND_SUMMARY);
  deadline.mutable_respond_by()->set_seconds(1'900'000'000);
  v1::SlotTally& row = *deadline.add_tally();
  row.mutable_slot()->mutable_begin()->set_seconds(1'900'100'000);
  row.mutable_slot()->mutable_duration()->set_seconds(1800);
  row.set_yes(2);
  row.set_maybe(1);
  row.set_pending(1);
  *deadline.mutable_best_slot() = row.slot();
  return request;
}

std::vector<std::string> fields_of(const absl::StatusOr<ValidatedQueueRequest>& result) {
  std::vector<std::string> fields;
  for (const auto& violation : decode_details(result.status()).violations) {
    fields.push_back(violation.field);
  }
  return fields;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(DeadlineMail, AReminderAsksForAnAnswerByTheDeadlineWithTheLinkAndTheSlots) {
  const MailContent mail = compose_mail(MailSettings{}, reminder(), kToken, kRespondBy);
  EXPECT_EQ(mail.subject, "[calndro] Reminder: answer for 'Lunch' by 2030-03-17T17:46:40Z");
  EXPECT_TRUE(contains(mail.body, "owner@here.net asks you to answer for 'Lunch' by 2030-03-17T17:46:40Z"))
      << mail.body;
  EXPECT_TRUE(contains(mail.body, "You have not answered yet")) << mail.body;
  EXPECT_TRUE(contains(mail.body, "http://localhost:9000/7/?et=" + kToken)) << mail.body;
  EXPECT_TRUE(contains(mail.body, "  - " + describe_slot(kFirst.begin, kFirst.duration) + "\n")) << mail.body;
  EXPECT_TRUE(contains(mail.body, "  - " + describe_slot(kSecond.begin, kSecond.duration) + "\n"))
      << mail.body;
  EXPECT_FALSE(contains(mail.body, "updated")) << mail.body;
}

TEST(DeadlineMail, TheSummaryGivesTheTallyTheBestSlotAndTheLinkToAgree) {
  const MailContent mail = compose_mail(MailSettings{}, summary(), kToken, kRespondBy);
  EXPECT_EQ(mail.subject, "[calndro] 'Lunch': answers closed");
  EXPECT_TRUE(contains(mail.body, "Answers for 'Lunch' closed at 2030-03-17T17:46:40Z")) << mail.body;
  EXPECT_TRUE(contains(mail.body, "  - " + describe_slot(kFirst.begin, kFirst.duration) +
                                      ": 2 yes, 1 if need be, 0 no, 1 pending\n"))
      << mail.body;
  EXPECT_TRUE(contains(mail.body, "  - " + describe_slot(kSecond.begin, kSecond.duration) +
                                      ": 0 yes, 0 if need be, 3 no, 1 pending\n"))
      << mail.body;
  EXPECT_TRUE(contains(mail.body, "Best slot: " + describe_slot(kFirst.begin, kFirst.duration) + "\n"))
      << mail.body;
  EXPECT_TRUE(contains(mail.body, "To agree on a time")) << mail.body;
  EXPECT_TRUE(contains(mail.body, "http://localhost:9000/7/?et=" + kToken)) << mail.body;
}

TEST(DeadlineMail, ASummaryWithoutABestSlotSaysSo) {
  MailRequest request = summary();
  request.deadline->best_slot.reset();
  const MailContent mail = compose_mail(MailSettings{}, request, kToken, kRespondBy);
  EXPECT_TRUE(contains(mail.body, "No slot has a yes or an if-need-be answer.")) << mail.body;
  EXPECT_FALSE(contains(mail.body, "Best slot")) << mail.body;
}

TEST(DeadlineMail, TheOutboxKeepsItAndComposesTheSameText) {
  for (const MailRequest& request : {reminder(), summary()}) {
    const std::optional<MailRequest> back = decode_mail_content(7, encode_mail_content(request));
    ASSERT_TRUE(back.has_value());
    ASSERT_TRUE(back->deadline.has_value());
    EXPECT_EQ(back->deadline->respond_by, kRespondBy);
    const MailContent composed = compose_mail(MailSettings{}, request, kToken, kRespondBy);
    EXPECT_EQ(compose_mail(MailSettings{}, *back, kToken, kRespondBy).body, composed.body);
    EXPECT_EQ(compose_subject(MailSettings{}, *back), composed.subject);
  }
  EXPECT_FALSE(
      decode_mail_content(7, R"({"title":"t","sender":"","invitation":false,"slots":[],)"
                             R"("deadline":{"kind":"shout","respond_by":1,"tally":[],"best_slot":null}})")
          .has_value());
}

TEST(DeadlineMail, QueueNotificationsAcceptsASummaryAndHashesIt) {
  const auto valid = validate_queue_request(wire_summary());
  ASSERT_TRUE(valid.ok()) << valid.status();
  ASSERT_TRUE(valid->mail.deadline.has_value());
  const DeadlineRequest& deadline = *valid->mail.deadline;
  EXPECT_EQ(deadline.kind, DeadlineRequest::Kind::kSummary);
  EXPECT_EQ(deadline.respond_by, kRespondBy);
  ASSERT_EQ(deadline.tally.size(), 1u);
  EXPECT_EQ(deadline.tally[0].yes, 2);
  EXPECT_EQ(deadline.tally[0].pending, 1);
  ASSERT_TRUE(deadline.best_slot.has_value());
  EXPECT_EQ(deadline.best_slot->begin, kFirst.begin);

  // Another tally is other content under the same request id.
  auto other = wire_summary();
  other.mutable_deadline()->mutable_tally(0)->set_yes(3);
  const auto changed = validate_queue_request(other);
  ASSERT_TRUE(changed.ok());
  EXPECT_NE(changed->content_hash, valid->content_hash);
  auto plain = wire_summary();
  plain.clear_deadline();
  EXPECT_NE(validate_queue_request(plain)->content_hash, valid->content_hash);
}

TEST(DeadlineMail, QueueNotificationsNamesEachBadDeadlineField) {
  auto no_kind = wire_summary();
  no_kind.mutable_deadline()->set_kind(v1::DeadlineMail::KIND_UNSPECIFIED);
  no_kind.mutable_deadline()->clear_respond_by();
  EXPECT_EQ(fields_of(validate_queue_request(no_kind)),
            (std::vector<std::string>{"deadline.kind", "deadline.respond_by", "deadline.tally"}));

  auto reminder_with_tally = wire_summary();
  reminder_with_tally.mutable_deadline()->set_kind(v1::DeadlineMail::KIND_REMINDER);
  EXPECT_EQ(fields_of(validate_queue_request(reminder_with_tally)),
            std::vector<std::string>{"deadline.tally"});

  auto bad_counts = wire_summary();
  bad_counts.mutable_deadline()->mutable_tally(0)->set_no(-1);
  EXPECT_EQ(fields_of(validate_queue_request(bad_counts)), std::vector<std::string>{"deadline.tally"});

  auto bad_slot = wire_summary();
  bad_slot.mutable_deadline()->mutable_best_slot()->mutable_duration()->set_seconds(0);
  EXPECT_EQ(fields_of(validate_queue_request(bad_slot)), std::vector<std::string>{"deadline.best_slot"});

  auto far = wire_summary();
  far.mutable_deadline()->mutable_respond_by()->set_seconds(999'999'999'999);
  EXPECT_EQ(fields_of(validate_queue_request(far)), std::vector<std::string>{"deadline.respond_by"});

  auto calendar_too = wire_summary();
  calendar_too.mutable_calendar()->set_method(v1::CalendarInvitation::METHOD_REQUEST);
  const auto fields = fields_of(validate_queue_request(calendar_too));
  EXPECT_NE(std::find(fields.begin(), fields.end(), "deadline"), fields.end());
}

}  // namespace
}  // namespace calndro::notify
