#include "events/deadline_mails.h"

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "common/text/proto_time.h"
#include "events/deadline_plan.h"
#include "events/event_mapping.h"
#include "service_fixture.h"

// SPEC §9's reminders and summary against in-memory stores: when each is
// due, who gets one, what the outbox row and the log say, and that nothing
// goes twice for one deadline. The service makes and changes the events;
// the job runs when the test calls it. (The real database, replicas and
// restarts: tests/integration/reminders_test.cc.)
namespace calndro::events {
namespace {

namespace notify_v1 = calndro::notify::v1;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr const char* kOwner = "owner@here.net";

// The rule of events.deadline_mail_due_at on its own.
TEST(DeadlineMailDueAt, TheReminderTimeThenTheDeadlineThenNothing) {
  EventRecord event;
  EXPECT_EQ(deadline_mail_due_at(event, {}), std::nullopt) << "no deadline";
  const Instant deadline{hours(1000)};
  event.respond_by = deadline;
  event.remind_before = hours(24);
  EXPECT_EQ(deadline_mail_due_at(event, {}), deadline - hours(24));
  EXPECT_EQ(deadline_mail_due_at(event, {.reminded_for = deadline, .summarized_for = std::nullopt}),
            deadline);
  EXPECT_EQ(deadline_mail_due_at(event, {.reminded_for = deadline, .summarized_for = deadline}),
            std::nullopt);
  // Marks of another deadline: the new one is armed again.
  const DeadlineMarks old{.reminded_for = deadline - hours(5), .summarized_for = deadline - hours(5)};
  EXPECT_EQ(deadline_mail_due_at(event, old), deadline - hours(24));
  event.deleted = true;
  EXPECT_EQ(deadline_mail_due_at(event, {}), std::nullopt) << "deleted";
}

TEST(PlanDeadlineMails, RemindsThePartiesWithoutAnswersButTheCreatorThenSummarizes) {
  EventRecord event;
  event.creator = kOwner;
  event.parties = {"a@here.net", kOwner, "b@here.net", "c@here.net"};
  event.respond_by = Instant(hours(1000));
  event.answers["b@here.net"] = {{Slot{Instant(hours(2000)), hours(1)}, Answer::kNo}};
  const DeadlinePlan before = plan_deadline_mails(event, *event.respond_by - seconds(1));
  EXPECT_EQ(before.step, DeadlineStep::kReminders);
  EXPECT_EQ(before.reminded, (std::vector<std::string>{"a@here.net", "c@here.net"}));
  EXPECT_FALSE(before.summary);
  const DeadlinePlan at = plan_deadline_mails(event, *event.respond_by);
  EXPECT_EQ(at.step, DeadlineStep::kSummary);
  EXPECT_TRUE(at.reminded.empty()) << "answers are closed: no reminder any more";
  EXPECT_TRUE(at.summary);
  event.agreed_slot = Slot{Instant(hours(2000)), hours(1)};
  EXPECT_TRUE(plan_deadline_mails(event, *event.respond_by - seconds(1)).reminded.empty());
  EXPECT_FALSE(plan_deadline_mails(event, *event.respond_by).summary);
}

class DeadlineMailsTest : public ServiceFixture {
 protected:
  DeadlineMailsTest() {
    owner_ = as_token(stores_.add_user(kOwner));
    stores_.add_user("party@here.net");
  }

  // An event of the owner with parties party, guest and other, slots at
  // hours 1 and 2, answers due `deadline_in` from now, reminded `lead` ahead.
  std::int64_t create(Micros deadline_in, Micros lead) {
    v1::CreateEventRequest request;
    for (const char* party : {"party@here.net", "guest@here.net", "other@here.net"}) {
      request.add_parties(party);
    }
    slot_to_proto(slot_at(1), *request.add_slots());
    slot_to_proto(slot_at(2), *request.add_slots());
    request.set_title("Lunch");
    *request.mutable_respond_by() = instant_to_proto(clock_.now() + deadline_in);
    *request.mutable_remind_before() = duration_to_proto(lead);
    v1::Event event;
    EXPECT_TRUE(call(&EventServiceImpl::CreateEvent, owner_, request, event).ok());
    return event.id();
  }

  absl::Status move_deadline(std::int64_t id, Instant to) {
    v1::UpdateEventRequest request;
    request.set_id(id);
    *request.mutable_respond_by()->mutable_at() = instant_to_proto(to);
    v1::Event event;
    return call(&EventServiceImpl::UpdateEvent, owner_, request, event);
  }

  void answer(std::int64_t id, const std::string& party, Answer given) {
    EventRecord& event = stores_.state.events.at(id);
    event.answers[party] = {{event.slots.front(), given}};
  }

  int round() {
    const absl::StatusOr<int> settled = job_.mail_once();
    EXPECT_TRUE(settled.ok()) << settled.status();
    return settled.value_or(-1);
  }

  // The deadline mails queued so far, oldest first, with their request.
  struct Queued {
    PendingNotification row;
    notify_v1::QueueNotificationsRequest request;
  };
  std::vector<Queued> queued(std::int64_t id) const {
    std::vector<Queued> out;
    for (const auto& [key, row] : stores_.state.outbox) {
      Queued item{row.notification, {}};
      EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(row.notification.request, &item.request).ok());
      if (row.notification.event_id == id && item.request.has_deadline()) {
        out.push_back(std::move(item));
      }
    }
    return out;
  }

  std::vector<nlohmann::json> notify_entries(std::int64_t id) const {
    std::vector<nlohmann::json> data;
    for (const LogEntryRecord& entry : stores_.log_of(id)) {
      if (entry.occurrence == Occurrence::kNotify) {
        EXPECT_EQ(entry.effector, kOwner);
        data.push_back(entry.data);
      }
    }
    return data;
  }

  Metadata owner_;
  int woken_ = 0;  // how often the job woke the relay
  DeadlineMails job_{stores_,
                     clock_,
                     random_,
                     {.batch = 5, .mails_per_hour = 100},
                     [this] { ++woken_; },
                     DeadlineMails::Driver::kCaller};
};

TEST_F(DeadlineMailsTest, RemindsEachPartyWithoutAnswersOnceAtTheReminderTime) {
  const std::int64_t id = create(hours(5), hours(2));
  answer(id, "guest@here.net", Answer::kNo);  // any answer counts as answered
  const std::int64_t version = stores_.state.events.at(id).version;
  clock_.advance(hours(3) - seconds(1));
  EXPECT_EQ(round(), 0) << "not yet";
  EXPECT_TRUE(queued(id).empty());
  clock_.advance(seconds(1));
  EXPECT_EQ(round(), 1);
  EXPECT_EQ(woken_, 1);

  const std::vector<Queued> mails = queued(id);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].row.recipients, (std::vector<std::string>{"party@here.net", "other@here.net"}));
  EXPECT_EQ(mails[0].row.caused_by, kOwner) << "counts against the creator's hourly budget";
  EXPECT_EQ(mails[0].request.request_id(), mails[0].row.id);
  EXPECT_TRUE(mails[0].row.id.starts_with("ev-" + std::to_string(id) + "-reminder-")) << mails[0].row.id;
  const notify_v1::DeadlineMail& deadline = mails[0].request.deadline();
  EXPECT_EQ(deadline.kind(), notify_v1::DeadlineMail::KIND_REMINDER);
  EXPECT_EQ(instant_from_proto(deadline.respond_by()), *stores_.state.events.at(id).respond_by);
  EXPECT_EQ(deadline.tally_size(), 0);
  EXPECT_EQ(mails[0].request.sender(), kOwner);
  EXPECT_EQ(mails[0].request.event_title(), "Lunch");
  EXPECT_EQ(mails[0].request.slots_size(), 2);

  const std::string respond_by = format_instant(*stores_.state.events.at(id).respond_by);
  EXPECT_EQ(notify_entries(id),
            (std::vector<nlohmann::json>{
                {{"recipient", "party@here.net"}, {"reminder", true}, {"respond_by", respond_by}},
                {{"recipient", "other@here.net"}, {"reminder", true}, {"respond_by", respond_by}}}));
  EXPECT_EQ(stores_.state.events.at(id).version, version) << "a reminder is not a change of the event";

  clock_.advance(minutes(30));
  EXPECT_EQ(round(), 0) << "never twice for one deadline";
  EXPECT_EQ(queued(id).size(), 1u);
}

TEST_F(DeadlineMailsTest, TheSummaryGoesToTheCreatorOnceAtTheDeadlineWithTheTally) {
  const std::int64_t id = create(hours(5), hours(2));
  clock_.advance(hours(3));
  EXPECT_EQ(round(), 1);  // the reminders
  answer(id, "party@here.net", Answer::kYes);
  answer(id, "guest@here.net", Answer::kMaybe);
  stores_.state.events.at(id).answers["other@here.net"] = {{slot_at(2), Answer::kYes}};
  clock_.advance(hours(2) - seconds(1));
  EXPECT_EQ(round(), 0);
  clock_.advance(seconds(1));
  EXPECT_EQ(round(), 1);

  const std::vector<Queued> mails = queued(id);
  ASSERT_EQ(mails.size(), 2u);
  const Queued& summary =
      mails[0].request.deadline().kind() == notify_v1::DeadlineMail::KIND_SUMMARY ? mails[0] : mails[1];
  EXPECT_EQ(summary.row.recipients, std::vector<std::string>{kOwner});
  EXPECT_EQ(summary.request.sender(), "") << "from calndro itself, not from the creator to the creator";
  const notify_v1::DeadlineMail& deadline = summary.request.deadline();
  EXPECT_EQ(deadline.kind(), notify_v1::DeadlineMail::KIND_SUMMARY);
  ASSERT_EQ(deadline.tally_size(), 2);
  // Slot 1: party yes, guest maybe; owner and other pending. Slot 2: other yes.
  EXPECT_EQ(deadline.tally(0).yes(), 1);
  EXPECT_EQ(deadline.tally(0).maybe(), 1);
  EXPECT_EQ(deadline.tally(0).no(), 0);
  EXPECT_EQ(deadline.tally(0).pending(), 2);
  EXPECT_EQ(deadline.tally(1).yes(), 1);
  EXPECT_EQ(deadline.tally(1).pending(), 3);
  ASSERT_TRUE(deadline.has_best_slot());
  EXPECT_EQ(slot_from_proto(deadline.best_slot()).value(), slot_at(1));
  const nlohmann::json last = notify_entries(id).back();
  EXPECT_EQ(last["recipient"], kOwner);
  EXPECT_EQ(last["summary"], true);

  clock_.advance(hours(48));
  EXPECT_EQ(round(), 0) << "one summary per deadline";
  EXPECT_EQ(queued(id).size(), 2u);
}

TEST_F(DeadlineMailsTest, AnEventWhoseEveryPartyAnsweredGetsNoReminderButItsSummary) {
  const std::int64_t id = create(hours(5), hours(2));
  for (const char* party : {"party@here.net", "guest@here.net", "other@here.net"}) {
    answer(id, party, Answer::kYes);
  }
  clock_.advance(hours(3));
  EXPECT_EQ(round(), 1) << "settled, with nothing to send";
  EXPECT_TRUE(queued(id).empty());
  EXPECT_TRUE(notify_entries(id).empty());
  EXPECT_EQ(woken_, 0);
  clock_.advance(hours(2));
  EXPECT_EQ(round(), 1);
  ASSERT_EQ(queued(id).size(), 1u);
  EXPECT_EQ(queued(id)[0].request.deadline().kind(), notify_v1::DeadlineMail::KIND_SUMMARY);
}

TEST_F(DeadlineMailsTest, AReminderTimeAlreadyPastSendsAtOnce) {
  const std::int64_t id = create(minutes(10), hours(24));
  EXPECT_EQ(round(), 1);
  ASSERT_EQ(queued(id).size(), 1u);
  EXPECT_EQ(queued(id)[0].row.recipients.size(), 3u);
}

TEST_F(DeadlineMailsTest, ANewDeadlineReArmsTheRemindersTheSameOneDoesNot) {
  const std::int64_t id = create(hours(5), hours(2));
  clock_.advance(hours(3));
  EXPECT_EQ(round(), 1);
  ASSERT_EQ(queued(id).size(), 1u);

  const Instant deadline = *stores_.state.events.at(id).respond_by;
  ASSERT_TRUE(move_deadline(id, deadline).ok());  // set again, unchanged
  EXPECT_EQ(round(), 0);
  EXPECT_EQ(queued(id).size(), 1u);

  answer(id, "guest@here.net", Answer::kYes);
  ASSERT_TRUE(move_deadline(id, deadline + hours(1)).ok());
  EXPECT_EQ(round(), 0) << "the new reminder time is an hour away";
  clock_.advance(hours(1));
  EXPECT_EQ(round(), 1);
  const std::vector<Queued> mails = queued(id);
  ASSERT_EQ(mails.size(), 2u);
  const Queued& second =
      mails[0].request.deadline().respond_by() == instant_to_proto(deadline) ? mails[1] : mails[0];
  EXPECT_EQ(second.row.recipients, (std::vector<std::string>{"party@here.net", "other@here.net"}));
  EXPECT_EQ(instant_from_proto(second.request.deadline().respond_by()), deadline + hours(1));
  // The old deadline passes: no summary for it.
  clock_.advance(hours(1));
  EXPECT_EQ(round(), 0);
  clock_.advance(hours(1));
  EXPECT_EQ(round(), 1);
  EXPECT_EQ(queued(id).size(), 3u) << "the summary of the new deadline, once";
}

TEST_F(DeadlineMailsTest, AnAgreedEventGetsNeitherRemindersNorSummary) {
  const std::int64_t id = create(hours(5), hours(2));
  stores_.state.events.at(id).agreed_slot = slot_at(1);
  clock_.advance(hours(3));
  EXPECT_EQ(round(), 1) << "settled: the reminders of this deadline are dropped";
  // Reopened before the deadline: the dropped reminders stay dropped.
  stores_.state.events.at(id).agreed_slot.reset();
  EXPECT_EQ(round(), 0);
  stores_.state.events.at(id).agreed_slot = slot_at(1);
  clock_.advance(hours(2));
  EXPECT_EQ(round(), 1);
  EXPECT_TRUE(queued(id).empty());
  EXPECT_TRUE(notify_entries(id).empty());
  stores_.state.events.at(id).agreed_slot.reset();
  clock_.advance(hours(1));
  EXPECT_EQ(round(), 0) << "no late summary after a reopening";
}

TEST_F(DeadlineMailsTest, ADeletedEventGetsNothing) {
  const std::int64_t id = create(hours(5), hours(2));
  stores_.state.events.at(id).deleted = true;
  clock_.advance(hours(6));
  EXPECT_EQ(round(), 0);
  EXPECT_TRUE(queued(id).empty());
}

TEST_F(DeadlineMailsTest, RemindersNotSentByTheDeadlineAreDroppedForTheSummary) {
  const std::int64_t id = create(hours(5), hours(2));
  clock_.advance(hours(6));  // the job did not run (every replica was down)
  EXPECT_EQ(round(), 1);
  const std::vector<Queued> mails = queued(id);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].request.deadline().kind(), notify_v1::DeadlineMail::KIND_SUMMARY);
  EXPECT_EQ(round(), 0);
}

TEST_F(DeadlineMailsTest, ARefusedRoundChangesNothingAndTheNextOneSends) {
  const std::int64_t id = create(hours(5), hours(2));
  clock_.advance(hours(3));
  stores_.next_runs.push_back(absl::UnavailableError("database down"));
  const absl::StatusOr<int> refused = job_.mail_once();
  EXPECT_TRUE(absl::IsUnavailable(refused.status())) << refused.status();
  EXPECT_TRUE(queued(id).empty());
  EXPECT_EQ(woken_, 0);
  EXPECT_EQ(round(), 1);
  EXPECT_EQ(queued(id).size(), 1u);
}

TEST_F(DeadlineMailsTest, RemindersWaitWhileTheCreatorsHourlyBudgetIsSpent) {
  DeadlineMails strict{
      stores_, clock_, random_, {.mails_per_hour = 4}, [] {}, DeadlineMails::Driver::kCaller};
  const std::int64_t id = create(hours(5), hours(2));
  // The creator notified two parties half an hour before the reminder time.
  clock_.advance(hours(2) + minutes(30));
  v1::NotifyPartiesRequest notify;
  notify.set_id(id);
  notify.add_parties("party@here.net");
  notify.add_parties("guest@here.net");
  slots_to_proto(stores_.state.events.at(id).slots, *notify.mutable_slots());
  v1::NotifyPartiesResponse notified;
  ASSERT_TRUE(call(&EventServiceImpl::NotifyParties, owner_, notify, notified).ok());
  clock_.advance(minutes(30));
  EXPECT_EQ(strict.mail_once().value(), 0) << "2 earlier + 3 reminders > 4: deferred";
  EXPECT_TRUE(queued(id).empty());
  clock_.advance(minutes(30) + seconds(1));  // the notify has left the hour
  EXPECT_EQ(strict.mail_once().value(), 1);
  ASSERT_EQ(queued(id).size(), 1u);
  EXPECT_EQ(queued(id)[0].row.recipients.size(), 3u);
}

TEST_F(DeadlineMailsTest, MoreRemindersThanAWholeBudgetGoOnceTheWindowIsClear) {
  DeadlineMails strict{
      stores_, clock_, random_, {.mails_per_hour = 2}, [] {}, DeadlineMails::Driver::kCaller};
  const std::int64_t id = create(hours(5), hours(2));
  clock_.advance(hours(3));
  EXPECT_EQ(strict.mail_once().value(), 1) << "3 reminders, a budget of 2, nothing else this hour";
  ASSERT_EQ(queued(id).size(), 1u);
  EXPECT_EQ(queued(id)[0].row.recipients.size(), 3u);
}

TEST_F(DeadlineMailsTest, ARoundSettlesAtMostABatchTheNextOneTheRest) {
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 7; ++i) {
    ids.push_back(create(hours(5), hours(2)));
  }
  clock_.advance(hours(3));
  EXPECT_EQ(round(), 5);
  EXPECT_EQ(round(), 2);
  EXPECT_EQ(round(), 0);
  for (const std::int64_t id : ids) {
    EXPECT_EQ(queued(id).size(), 1u) << id;
  }
}

}  // namespace
}  // namespace calndro::events
