// SPEC §9's deadline mails on the real stack (PostgreSQL, the SMTP sink,
// calndro-events, calndro-notify and the gateway): a reminder to each party
// that has not answered, remind_before ahead of respond_by, and one summary
// to the creator at respond_by; each within 10 seconds of its time, logged as
// a NOTIFY entry, and exactly once whatever restarts and replicas.
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "calndro/events/v1/events.grpc.pb.h"
#include "support/http_call.h"
#include "support/stack.h"
#include "support/wait.h"

using namespace calndro::testing;
namespace ev1 = calndro::events::v1;
using google::protobuf::util::TimeUtil;
using json = nlohmann::json;
using Clock = std::chrono::system_clock;

namespace {

// How long after its time a deadline mail may be logged (SPEC §9).
constexpr auto kPromptness = 10s;
// Long enough for the job (polling every 2 s), the relay and the dispatcher
// to have sent a mail that was due, on a loaded machine.
constexpr auto kMailWait = 40s;
// A window of quiet after the last expected mail: a mail sent twice would
// arrive in it, with nothing else to show it (several job rounds long).
constexpr auto kQuiet = 5s;

constexpr const char* kReminderText = "asks you to answer for";
constexpr const char* kSummaryText = "' closed at ";

const char* const kSlotBegin = "2032-05-06T09:00:00Z";

calndro::common::v1::TimeSlot slot() {
  calndro::common::v1::TimeSlot out;
  EXPECT_TRUE(TimeUtil::FromString(kSlotBegin, out.mutable_begin()));
  *out.mutable_duration() = TimeUtil::SecondsToDuration(3600);
  return out;
}

google::protobuf::Timestamp timestamp(Clock::time_point at) {
  return TimeUtil::MicrosecondsToTimestamp(
      std::chrono::duration_cast<std::chrono::microseconds>(at.time_since_epoch()).count());
}

Clock::time_point from_micros(long long micros) {
  return Clock::time_point(std::chrono::duration_cast<Clock::duration>(std::chrono::microseconds(micros)));
}

// The mails of `kind` ("reminder" or "summary" body text) to `recipient`
// about event `id`.
std::vector<MailMessage> mails_of(const SmtpSink& smtp, const std::string& recipient, const char* kind,
                                  const std::string& id) {
  std::vector<MailMessage> found;
  for (MailMessage& mail : smtp.messages_to(recipient)) {
    const std::string text = mail.text();
    if (text.find(kind) != std::string::npos && text.find("/" + id + "/?et=") != std::string::npos) {
      found.push_back(std::move(mail));
    }
  }
  return found;
}

// Calls the event service as a registered user, as any gRPC client would.
class Client {
 public:
  Client(Stack& stack, User user)
      : user_(std::move(user)), stub_(ev1::EventService::NewStub(stack.events_channel())) {}

  // A context with a deadline and the user's Basic credentials.
  std::unique_ptr<grpc::ClientContext> context() const {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(Clock::now() + 15s);
    context->AddMetadata("authorization", basic_auth(user_.email, user_.password));
    return context;
  }

  // An event of this user with `parties`, one slot, answers due `respond_by`,
  // reminded `remind_before` ahead (nullopt: the default day).
  std::string create(const std::vector<std::string>& parties, Clock::time_point respond_by,
                     std::optional<std::chrono::seconds> remind_before) const {
    ev1::CreateEventRequest request;
    request.set_title("remind-test");
    for (const std::string& party : parties) {
      request.add_parties(party);
    }
    *request.add_slots() = slot();
    *request.mutable_respond_by() = timestamp(respond_by);
    if (remind_before) {
      *request.mutable_remind_before() = TimeUtil::SecondsToDuration(remind_before->count());
    }
    ev1::Event event;
    const grpc::Status status = stub_->CreateEvent(context().get(), request, &event);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return std::to_string(event.id());
  }

  grpc::Status move_deadline(const std::string& id, Clock::time_point to) const {
    ev1::UpdateEventRequest request;
    request.set_id(std::stoll(id));
    *request.mutable_respond_by()->mutable_at() = timestamp(to);
    ev1::Event event;
    return stub_->UpdateEvent(context().get(), request, &event);
  }

  grpc::Status answer_yes(const std::string& id) const {
    ev1::AnswerSlotsRequest request;
    request.set_id(std::stoll(id));
    ev1::SlotAnswer& answer = *request.add_answers();
    *answer.mutable_slot() = slot();
    answer.set_answer(ev1::ANSWER_YES);
    ev1::Event event;
    return stub_->AnswerSlots(context().get(), request, &event);
  }

  grpc::Status agree(const std::string& id) const {
    ev1::AgreeEventRequest request;
    request.set_id(std::stoll(id));
    *request.mutable_slot() = slot();
    ev1::Event event;
    return stub_->AgreeEvent(context().get(), request, &event);
  }

  grpc::Status remove(const std::string& id) const {
    ev1::DeleteEventRequest request;
    request.set_id(std::stoll(id));
    google::protobuf::Empty empty;
    return stub_->DeleteEvent(context().get(), request, &empty);
  }

  const User& user() const { return user_; }

 private:
  User user_;
  std::unique_ptr<ev1::EventService::Stub> stub_;
};

// SPEC §4's output form of an instant, to the microsecond.
std::string rest_instant(Clock::time_point at) {
  return TimeUtil::ToString(TimeUtil::MicrosecondsToTimestamp(
      std::chrono::duration_cast<std::chrono::microseconds>(at.time_since_epoch()).count()));
}

HttpReply rest(const Stack& stack, const std::string& method, const std::string& path, const User& user,
               const json& body) {
  return http_call(stack, {.method = method,
                           .path = path,
                           .authorization = basic_auth(user.email, user.password),
                           .body = body.dump()});
}

// A NOTIFY entry of a deadline mail, as the database holds it.
struct DeadlineEntry {
  std::string recipient;
  std::string effector;
  Clock::time_point at;
};

std::vector<DeadlineEntry> deadline_entries(Stack& stack, const std::string& id, const std::string& kind) {
  std::vector<DeadlineEntry> entries;
  for (const auto& row :
       stack.db().query("SELECT data->>'recipient', effector, (extract(epoch FROM at) * 1000000)::bigint "
                        "FROM events.log_entries WHERE occurrence = 'NOTIFY' AND event_id = " +
                        id + " AND data @> '{\"" + kind + "\": true}' ORDER BY id")) {
    entries.push_back({row[0], row[1], from_micros(std::stoll(row[2]))});
  }
  return entries;
}

std::vector<std::string> recipients_of(const std::vector<DeadlineEntry>& entries) {
  std::vector<std::string> recipients;
  for (const DeadlineEntry& entry : entries) {
    recipients.push_back(entry.recipient);
  }
  std::sort(recipients.begin(), recipients.end());
  return recipients;
}

// Every entry logged from `due` on and within kPromptness of it.
void expect_prompt(const std::vector<DeadlineEntry>& entries, Clock::time_point due,
                   const std::string& what) {
  for (const DeadlineEntry& entry : entries) {
    EXPECT_GE(entry.at, due) << what << " to " << entry.recipient << " before its time";
    EXPECT_LE(entry.at, due + kPromptness)
        << what << " to " << entry.recipient << " logged "
        << std::chrono::duration_cast<std::chrono::milliseconds>(entry.at - due).count()
        << " ms after its time";
  }
}

std::vector<std::string> sorted(std::vector<std::string> items) {
  std::sort(items.begin(), items.end());
  return items;
}

class Reminders : public SuiteStackTest<Reminders> {
 public:
  // The relay hands a queued mail over at once; the deadline job keeps its
  // production pace (CALNDRO_DEADLINE_MAIL_POLL_MS 2000), so the 10 s bound is
  // checked as deployed.
  static StackOptions options() { return prompt_mail_options(); }

 protected:
  void prepare() override {
    creator_.emplace(stack(), stack().create_user(unique_email("rcreator"), "creator-Pass-1"));
    answering_.emplace(stack(), stack().create_user(unique_email("ranswers"), "answers-Pass-1"));
  }

  std::optional<Client> creator_, answering_;
};

TEST_F(Reminders, OnlyThePartiesThatHaveNotAnsweredAreRemindedThenTheCreatorGetsTheSummary) {
  const std::string silent = unique_email("rsilent");
  const std::string quiet = unique_email("rquiet");
  const std::string answered = answering_->user().email;
  const auto respond_by = Clock::now() + 12s;
  const auto remind_at = respond_by - 6s;
  const std::string id = creator_->create({silent, answered, quiet}, respond_by, 6s);
  const HttpReply answer =
      rest(stack(), "PUT", "/" + id + "/answers/", answering_->user(),
           {{"answers",
             json::array({{{"slot", {{"begin", kSlotBegin}, {"duration", "01:00"}}}, {"answer", "yes"}}})}});
  ASSERT_EQ(answer.status, 200) << answer;

  ASSERT_TRUE(wait_until(
      [&] {
        return mails_of(stack().smtp(), silent, kReminderText, id).size() == 1 &&
               mails_of(stack().smtp(), quiet, kReminderText, id).size() == 1;
      },
      kMailWait, "the reminders to the two parties that have not answered"));
  const std::vector<DeadlineEntry> reminders = deadline_entries(stack(), id, "reminder");
  EXPECT_EQ(recipients_of(reminders), sorted({silent, quiet}));
  expect_prompt(reminders, remind_at, "reminder");
  for (const DeadlineEntry& entry : reminders) {
    EXPECT_EQ(entry.effector, creator_->user().email);
  }

  // The reminder's link carries a fresh token that opens the event.
  const MailMessage reminder = mails_of(stack().smtp(), silent, kReminderText, id).front();
  std::smatch link;
  const std::string text = reminder.text();
  ASSERT_TRUE(std::regex_search(text, link, std::regex("/" + id + "/\\?et=([0-9a-f]{40})"))) << text;
  const HttpReply opened = http_call(stack(), {.method = "GET", .path = "/" + id + "/?et=" + link[1].str()});
  EXPECT_EQ(opened.status, 200) << opened;
  EXPECT_NE(text.find(TimeUtil::ToString(timestamp(respond_by)).substr(0, 19)), std::string::npos) << text;

  ASSERT_TRUE(wait_until(
      [&] { return mails_of(stack().smtp(), creator_->user().email, kSummaryText, id).size() == 1; },
      kMailWait, "the summary to the creator"));
  const std::vector<DeadlineEntry> summaries = deadline_entries(stack(), id, "summary");
  EXPECT_EQ(recipients_of(summaries), std::vector<std::string>{creator_->user().email});
  expect_prompt(summaries, respond_by, "summary");
  const std::string summary =
      mails_of(stack().smtp(), creator_->user().email, kSummaryText, id).front().text();
  EXPECT_NE(summary.find(": 1 yes, 0 if need be, 0 no, 3 pending"), std::string::npos) << summary;
  EXPECT_NE(summary.find("Best slot: "), std::string::npos) << summary;
  EXPECT_NE(summary.find("To agree on a time"), std::string::npos) << summary;

  // The log as any party reads it names each deadline mail.
  const HttpReply log = http_call(
      stack(),
      {.method = "GET", .path = "/" + id + "/log/", .authorization = basic_auth(answered, "answers-Pass-1")});
  ASSERT_EQ(log.status, 200) << log;
  int reminder_entries = 0;
  int summary_entries = 0;
  const json page = log.j();
  for (const json& entry : page.at("entries")) {
    if (entry["occurrence"] == "NOTIFY" && entry["data"].value("reminder", false)) {
      ++reminder_entries;
      EXPECT_NE(entry["data"]["recipient"], answered);
    }
    if (entry["occurrence"] == "NOTIFY" && entry["data"].value("summary", false)) {
      ++summary_entries;
      EXPECT_EQ(entry["data"]["recipient"], creator_->user().email);
    }
  }
  EXPECT_EQ(reminder_entries, 2) << log;
  EXPECT_EQ(summary_entries, 1) << log;

  std::this_thread::sleep_for(kQuiet);  // nothing more comes: see kQuiet
  EXPECT_TRUE(mails_of(stack().smtp(), answered, kReminderText, id).empty()) << "the party that answered";
  EXPECT_TRUE(mails_of(stack().smtp(), creator_->user().email, kReminderText, id).empty()) << "the creator";
  EXPECT_EQ(mails_of(stack().smtp(), silent, kReminderText, id).size(), 1u);
  EXPECT_EQ(mails_of(stack().smtp(), quiet, kReminderText, id).size(), 1u);
  EXPECT_EQ(mails_of(stack().smtp(), creator_->user().email, kSummaryText, id).size(), 1u);
  EXPECT_EQ(deadline_entries(stack(), id, "reminder").size(), 2u);
  EXPECT_EQ(deadline_entries(stack(), id, "summary").size(), 1u);
  // A reminder is not a change of the event: two versions, the creation and
  // the answer.
  EXPECT_EQ(stack().db().scalar("SELECT version FROM events.events WHERE id = " + id), "2");
  wait_mail_settled(stack(), id);
  const CommandResult check = stack().admin({"check"});
  EXPECT_EQ(check.exit_code, 0) << check.output();
}

// Over REST, as the seed's user would set a deadline.
TEST_F(Reminders, AReminderTimeAlreadyPastSendsAtOnceAndANewDeadlineReArmsIt) {
  const std::string guest = unique_email("rguest");
  // The default lead (a day) is longer than the time left: at once.
  const auto created = Clock::now();
  const HttpReply made = rest(stack(), "POST", "/", creator_->user(),
                              {{"parties", {guest}},
                               {"slots", json::array({{{"begin", kSlotBegin}, {"duration", "01:00"}}})},
                               {"respond_by", rest_instant(created + 60s)}});
  ASSERT_EQ(made.status, 201) << made;
  const std::string id = std::to_string(made.j()["id"].get<long long>());
  ASSERT_TRUE(wait_until([&] { return mails_of(stack().smtp(), guest, kReminderText, id).size() == 1; },
                         kMailWait, "the reminder sent at once"));
  expect_prompt(deadline_entries(stack(), id, "reminder"), created, "reminder");

  // The same deadline set again re-arms nothing; a new one does, at once.
  const HttpReply same =
      rest(stack(), "PATCH", "/" + id + "/", creator_->user(), {{"respond_by", made.j()["respond_by"]}});
  ASSERT_EQ(same.status, 202) << same;
  const auto moved = Clock::now();
  const HttpReply later =
      rest(stack(), "PATCH", "/" + id + "/", creator_->user(), {{"respond_by", rest_instant(moved + 90s)}});
  ASSERT_EQ(later.status, 202) << later;
  ASSERT_TRUE(wait_until([&] { return mails_of(stack().smtp(), guest, kReminderText, id).size() == 2; },
                         kMailWait, "the reminder of the new deadline"));
  const std::vector<DeadlineEntry> reminders = deadline_entries(stack(), id, "reminder");
  ASSERT_EQ(reminders.size(), 2u);
  expect_prompt({reminders[1]}, moved, "the second reminder");

  // No deadline: nothing is due any more.
  const HttpReply cleared =
      rest(stack(), "PATCH", "/" + id + "/", creator_->user(), {{"respond_by", nullptr}});
  ASSERT_EQ(cleared.status, 202) << cleared;
  EXPECT_EQ(stack().db().scalar("SELECT deadline_mail_due_at IS NULL FROM events.events WHERE id = " + id),
            "t");
  // A reminder is not a change: the ETag of the last PATCH still holds.
  const HttpReply current =
      http_call(stack(), {.method = "GET",
                          .path = "/" + id + "/",
                          .authorization = basic_auth(creator_->user().email, creator_->user().password)});
  EXPECT_EQ(current.header("ETag"), "\"4\"") << "created, and three PATCHes";
  std::this_thread::sleep_for(kQuiet);  // nothing more comes: see kQuiet
  EXPECT_EQ(mails_of(stack().smtp(), guest, kReminderText, id).size(), 2u);
  EXPECT_TRUE(deadline_entries(stack(), id, "summary").empty());
}

TEST_F(Reminders, NoneAfterTheEventIsAgreedOrDeleted) {
  const User staff = stack().create_user(unique_email("rstaff"), "staff-Pass-1", /*staff=*/true);
  const Client staffer(stack(), staff);
  const std::string agreed_guest = unique_email("ragreed");
  const std::string deleted_guest = unique_email("rdeleted");
  const auto respond_by = Clock::now() + 10s;
  const std::string agreed = creator_->create({agreed_guest}, respond_by, 5s);
  const std::string deleted = creator_->create({deleted_guest}, respond_by, 5s);
  ASSERT_TRUE(creator_->agree(agreed).ok());
  ASSERT_TRUE(staffer.remove(deleted).ok());

  // Both the reminder time and the deadline pass.
  ASSERT_TRUE(wait_until(
      [&] {
        return stack().db().scalar("SELECT summarized_for IS NOT NULL FROM events.events WHERE id = " +
                                   agreed) == "t";
      },
      kMailWait, "the agreed event's deadline to pass and be settled"));
  std::this_thread::sleep_for(kQuiet);  // nothing comes for either: see kQuiet
  for (const auto& [id, guest] : {std::pair{agreed, agreed_guest}, std::pair{deleted, deleted_guest}}) {
    EXPECT_TRUE(mails_of(stack().smtp(), guest, kReminderText, id).empty()) << id;
    EXPECT_TRUE(mails_of(stack().smtp(), creator_->user().email, kSummaryText, id).empty()) << id;
    EXPECT_TRUE(deadline_entries(stack(), id, "reminder").empty()) << id;
    EXPECT_TRUE(deadline_entries(stack(), id, "summary").empty()) << id;
  }
  // The agreed event's invitation did go out: mail flows, only the deadline mails are held back.
  EXPECT_FALSE(stack().smtp().messages_to(agreed_guest).empty());
}

// The schedule lives in the database: an event service killed before the
// reminder time sends it once back; killed after, it sends nothing twice.
class RemindersAcrossRestarts : public SuiteStackTest<RemindersAcrossRestarts> {
 public:
  static StackOptions options() { return prompt_mail_options(); }
};

TEST_F(RemindersAcrossRestarts, ExactlyOnceWhenTheEventServiceIsKilledBeforeAndAfterTheReminders) {
  const Client creator(stack(), stack().create_user(unique_email("kcreator"), "creator-Pass-1"));
  std::vector<std::string> guests;
  for (int i = 0; i < 3; ++i) {
    guests.push_back(unique_email("kguest"));
  }
  const auto respond_by = Clock::now() + 16s;
  const auto remind_at = respond_by - 8s;
  const std::string id = creator.create(guests, respond_by, 8s);

  stack().events().kill9();
  // Down while the reminders fall due.
  ASSERT_TRUE(wait_until([&] { return Clock::now() > remind_at + 1s; }, 30s, "the reminder time to pass"));
  stack().revive();
  for (const std::string& guest : guests) {
    ASSERT_TRUE(wait_until([&] { return mails_of(stack().smtp(), guest, kReminderText, id).size() == 1; },
                           kMailWait, "the reminder to " + guest + " once the service is back"));
  }
  // Killed again once they were sent: the restarted process finds them settled.
  wait_mail_settled(stack(), id);
  stack().events().kill9();
  stack().revive();
  ASSERT_TRUE(
      wait_until([&] { return mails_of(stack().smtp(), creator.user().email, kSummaryText, id).size() == 1; },
                 kMailWait, "the summary after the restart"));
  std::this_thread::sleep_for(kQuiet);  // nothing more comes: see kQuiet
  for (const std::string& guest : guests) {
    EXPECT_EQ(mails_of(stack().smtp(), guest, kReminderText, id).size(), 1u) << guest;
  }
  EXPECT_EQ(recipients_of(deadline_entries(stack(), id, "reminder")), sorted(guests));
  EXPECT_EQ(deadline_entries(stack(), id, "summary").size(), 1u);
  EXPECT_EQ(mails_of(stack().smtp(), creator.user().email, kSummaryText, id).size(), 1u);
}

// A creator who keeps moving the deadline re-arms the reminders each time:
// they count against the creator's hourly mail limit for the event, and
// wait while it is spent.
class RemindersMailLimit : public SuiteStackTest<RemindersMailLimit> {
 public:
  static StackOptions options() {
    StackOptions options = prompt_mail_options();
    options.env["CALNDRO_NOTIFY_MAILS_PER_HOUR"] = "3";
    return options;
  }
};

TEST_F(RemindersMailLimit, ReArmedRemindersWaitWhileTheCreatorsHourlyLimitIsSpent) {
  const Client creator(stack(), stack().create_user(unique_email("lcreator"), "creator-Pass-1"));
  const std::vector<std::string> guests = {unique_email("lguest"), unique_email("lguest")};
  // The default lead of a day: due at once, each time.
  const std::string id = creator.create(guests, Clock::now() + 120s, std::nullopt);
  for (const std::string& guest : guests) {
    ASSERT_TRUE(wait_until([&] { return mails_of(stack().smtp(), guest, kReminderText, id).size() == 1; },
                           kMailWait, "the first reminder to " + guest));
  }
  const grpc::Status moved = creator.move_deadline(id, Clock::now() + 150s);
  ASSERT_TRUE(moved.ok()) << moved.error_message();
  ASSERT_TRUE(wait_until(
      [&] {
        return stack().events().log_since_start().find(
                   "deadline mails wait for the creator's hourly mail limit") != std::string::npos;
      },
      kMailWait, "the job to hold the re-armed reminders back"));
  std::this_thread::sleep_for(kQuiet);  // nothing more comes: see kQuiet
  for (const std::string& guest : guests) {
    EXPECT_EQ(mails_of(stack().smtp(), guest, kReminderText, id).size(), 1u) << guest;
  }
  EXPECT_EQ(deadline_entries(stack(), id, "reminder").size(), 2u);
  EXPECT_EQ(stack().db().scalar("SELECT deadline_mail_due_at <= now() FROM events.events WHERE id = " + id),
            "t")
      << "still due: sent once the hour allows";
}

// Two event-service replicas on one database, both looking every 50 ms:
// each deadline mail is still sent by one of them, once.
TEST(RemindersScaleOut, ExactlyOnceWithTwoReplicasOnOneDatabase) {
  StackOptions options = prompt_mail_options();
  options.replicas = 2;
  options.env["CALNDRO_DEADLINE_MAIL_POLL_MS"] = "50";
  Stack stack(options);
  ASSERT_EQ(stack.replicas(), 2);
  const Client creator(stack, stack.create_user(unique_email("screator"), "creator-Pass-1"));
  // A party of every event that answers each over gRPC: never reminded.
  const Client answering(stack, stack.create_user(unique_email("sanswers"), "answers-Pass-1"));
  constexpr int kEvents = 8;
  const auto respond_by = Clock::now() + 12s;
  std::vector<std::pair<std::string, std::vector<std::string>>> events;
  for (int i = 0; i < kEvents; ++i) {
    std::vector<std::string> guests = {unique_email("sguest"), unique_email("sguest")};
    const std::string id = creator.create({guests[0], guests[1], answering.user().email}, respond_by, 6s);
    const grpc::Status answered = answering.answer_yes(id);
    ASSERT_TRUE(answered.ok()) << answered.error_message();
    events.emplace_back(id, guests);
  }
  for (const auto& [id, guests] : events) {
    for (const std::string& guest : guests) {
      ASSERT_TRUE(wait_until([&] { return mails_of(stack.smtp(), guest, kReminderText, id).size() >= 1; },
                             kMailWait, "the reminder to " + guest));
    }
  }
  for (const auto& [id, guests] : events) {
    ASSERT_TRUE(
        wait_until([&] { return mails_of(stack.smtp(), creator.user().email, kSummaryText, id).size() >= 1; },
                   kMailWait, "the summary of event " + id));
  }
  std::this_thread::sleep_for(kQuiet);  // nothing more comes: see kQuiet
  for (const auto& [id, guests] : events) {
    for (const std::string& guest : guests) {
      EXPECT_EQ(mails_of(stack.smtp(), guest, kReminderText, id).size(), 1u) << guest;
    }
    EXPECT_EQ(recipients_of(deadline_entries(stack, id, "reminder")), sorted(guests)) << id;
    EXPECT_TRUE(mails_of(stack.smtp(), answering.user().email, kReminderText, id).empty()) << id;
    EXPECT_EQ(deadline_entries(stack, id, "summary").size(), 1u) << id;
    EXPECT_EQ(mails_of(stack.smtp(), creator.user().email, kSummaryText, id).size(), 1u) << id;
  }
  // One outbox row of reminders per event, whichever replica wrote it.
  EXPECT_EQ(
      stack.db().scalar("SELECT count(*) FROM events.pending_notifications WHERE id LIKE 'ev-%-reminder-%'"),
      std::to_string(kEvents));
}

}  // namespace
