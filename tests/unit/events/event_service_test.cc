#include "events/event_service.h"

#include <google/protobuf/util/json_util.h>
#include <grpcpp/test/server_context_test_spouse.h>
#include <gtest/gtest.h>

#include "common/grpc/rich_status.h"
#include "common/text/time_format.h"
#include "events/event_store.h"
#include "fake_clock.h"
#include "fakes.h"
#include "service_fixture.h"

// The event service's logic against in-memory stores: SPEC §2's access
// table, validation, and what create, patch and notify write to the log.
namespace calndro::events {
namespace {

namespace notify_v1 = calndro::notify::v1;

constexpr const char* kEmailToken = "0123456789abcdef0123456789abcdef01234567";
constexpr const char* kOtherEmailToken = "fedcba9876543210fedcba9876543210fedcba98";
constexpr const char* kOwnerEmailToken = "00112233445566778899aabbccddeeff00112233";

template <typename Repeated>
void add_slots(Repeated& out, const std::vector<Slot>& slots) {
  for (const auto& slot : slots) {
    slot_to_proto(slot, *out.Add());
  }
}

class EventServiceTest : public ServiceFixture {
 protected:
  EventServiceTest() {
    owner_ = as_token(stores_.add_user("owner@here.net"));
    party_ = as_token(stores_.add_user("party@here.net"));
    stranger_ = as_token(stores_.add_user("stranger@here.net"));
    staff_ = as_token(stores_.add_user("staff@here.net", /*staff=*/true));
    event_id_ = create({"party@here.net"}, {slot_at(1), slot_at(2), slot_at(3)}).id();
    add_email_token(kEmailToken, event_id_, "party@here.net");
    add_email_token(kOtherEmailToken, event_id_ + 1000, "party@here.net");
    add_email_token(kOwnerEmailToken, event_id_, "owner@here.net");
    owner_token_ = {{"x-email-token", kOwnerEmailToken}};
    email_token_ = {{"x-email-token", kEmailToken}};
    other_token_ = {{"x-email-token", kOtherEmailToken}};
  }

  v1::Event create(const std::vector<std::string>& parties, const std::vector<Slot>& slots,
                   const std::string& title = "Lunch") {
    v1::CreateEventRequest request;
    for (const auto& party : parties) {
      request.add_parties(party);
    }
    add_slots(*request.mutable_slots(), slots);
    request.set_title(title);
    v1::Event event;
    const absl::Status status = call(&EventServiceImpl::CreateEvent, owner_, request, event);
    EXPECT_TRUE(status.ok()) << status;
    return event;
  }

  // As call(), the response into `*out` when the test wants it.
  template <typename Request, typename Response>
  absl::Status call_into(grpc::Status (EventServiceImpl::*rpc)(grpc::ServerContext*, const Request*,
                                                               Response*),
                         const Metadata& caller, const Request& request, Response* out) {
    Response response;
    const absl::Status status = call(rpc, caller, request, response);
    if (out != nullptr) {
      *out = std::move(response);
    }
    return status;
  }

  absl::Status get(const Metadata& caller) {
    v1::GetEventRequest request;
    request.set_id(event_id_);
    v1::Event event;
    return call(&EventServiceImpl::GetEvent, caller, request, event);
  }

  absl::Status calendar(const Metadata& caller, v1::EventCalendar* out = nullptr,
                        const v1::GetEventCalendarRequest& base_request = {}) {
    v1::GetEventCalendarRequest request = base_request;
    request.set_id(event_id_);
    return call_into(&EventServiceImpl::GetEventCalendar, caller, request, out);
  }

  absl::Status patch(const Metadata& caller, v1::UpdateEventRequest request) {
    request.set_id(event_id_);
    v1::Event event;
    return call(&EventServiceImpl::UpdateEvent, caller, request, event);
  }

  absl::Status patch_title(const Metadata& caller, const std::string& title = "Dinner") {
    v1::UpdateEventRequest request;
    request.set_title(title);
    return patch(caller, request);
  }

  absl::Status notify(const Metadata& caller, const std::vector<std::string>& parties,
                      std::vector<Slot> slots = {slot_at(1), slot_at(2), slot_at(3)}) {
    v1::NotifyPartiesRequest request;
    request.set_id(event_id_);
    for (const auto& party : parties) {
      request.add_parties(party);
    }
    add_slots(*request.mutable_slots(), slots);
    v1::NotifyPartiesResponse response;
    return call(&EventServiceImpl::NotifyParties, caller, request, response);
  }

  absl::Status read_log(const Metadata& caller, v1::EventLog* out = nullptr) {
    v1::GetEventLogRequest request;
    request.set_id(event_id_);
    return call_into(&EventServiceImpl::GetEventLog, caller, request, out);
  }

  absl::Status agree(const Metadata& caller, const Slot& slot, std::optional<std::int64_t> expected = {},
                     v1::Event* out = nullptr) {
    v1::AgreeEventRequest request;
    request.set_id(event_id_);
    slot_to_proto(slot, *request.mutable_slot());
    if (expected) {
      request.set_expected_version(*expected);
    }
    return call_into(&EventServiceImpl::AgreeEvent, caller, request, out);
  }

  absl::Status reopen(const Metadata& caller, v1::Event* out = nullptr) {
    v1::ReopenEventRequest request;
    request.set_id(event_id_);
    return call_into(&EventServiceImpl::ReopenEvent, caller, request, out);
  }

  // The outbox's rows as the requests they queue, oldest first.
  std::vector<notify_v1::QueueNotificationsRequest> queued_requests() const {
    std::vector<std::pair<Instant, notify_v1::QueueNotificationsRequest>> rows;
    for (const auto& [id, row] : stores_.state.outbox) {
      notify_v1::QueueNotificationsRequest request;
      EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(row.notification.request, &request).ok());
      EXPECT_EQ(row.notification.recipients,
                std::vector<std::string>(request.recipients().begin(), request.recipients().end()));
      rows.emplace_back(row.created, request);
    }
    std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
      return a.first < b.first ||
             (a.first == b.first && a.second.calendar().sequence() < b.second.calendar().sequence());
    });
    std::vector<notify_v1::QueueNotificationsRequest> requests;
    for (auto& row : rows) {
      requests.push_back(std::move(row.second));
    }
    return requests;
  }

  absl::Status remove(const Metadata& caller) {
    v1::DeleteEventRequest request;
    request.set_id(event_id_);
    google::protobuf::Empty empty;
    return call(&EventServiceImpl::DeleteEvent, caller, request, empty);
  }

  absl::Status list(const Metadata& caller, v1::ListEventsResponse* out = nullptr) {
    v1::ListEventsResponse response;
    const absl::Status status =
        call(&EventServiceImpl::ListEvents, caller, v1::ListEventsRequest(), response);
    if (out != nullptr) {
      *out = response;
    }
    return status;
  }

  Metadata owner_, party_, stranger_, staff_, email_token_, other_token_, owner_token_;
  std::int64_t event_id_ = 0;
};

// SPEC §2, one row per action; columns: owner, party, party by email token
// for this event, email token for another event, staff, stranger.
TEST_F(EventServiceTest, FollowsTheAccessTable) {
  using Code = absl::StatusCode;
  const Code ok = Code::kOk;
  const Code denied = Code::kPermissionDenied;
  struct Row {
    const char* action;
    std::function<absl::Status(const Metadata&)> call;
    std::vector<Code> expected;
  };
  const std::vector<Row> table = {
      {"list", [&](const Metadata& c) { return list(c); }, {ok, ok, denied, denied, ok, ok}},
      {"view", [&](const Metadata& c) { return get(c); }, {ok, ok, ok, denied, ok, denied}},
      {"calendar", [&](const Metadata& c) { return calendar(c); }, {ok, ok, ok, denied, ok, denied}},
      {"patch", [&](const Metadata& c) { return patch_title(c); }, {ok, ok, ok, denied, ok, denied}},
      {"notify",
       [&](const Metadata& c) { return notify(c, {"party@here.net"}); },
       {ok, ok, ok, denied, ok, denied}},
      {"log", [&](const Metadata& c) { return read_log(c); }, {ok, ok, ok, denied, ok, denied}},
  };
  const std::vector<const Metadata*> callers = {&owner_,       &party_, &email_token_,
                                                &other_token_, &staff_, &stranger_};
  for (const Row& row : table) {
    for (std::size_t i = 0; i < callers.size(); ++i) {
      const std::size_t log_before = stores_.log_of(event_id_).size();
      const absl::Status status = row.call(*callers[i]);
      EXPECT_EQ(status.code(), row.expected[i]) << row.action << ", caller " << i << ": " << status;
      if (!status.ok()) {
        EXPECT_EQ(stores_.log_of(event_id_).size(), log_before) << row.action << ", caller " << i;
      }
    }
  }
}

TEST_F(EventServiceTest, OnlyStaffDeletesAndOnlyStaffStillSeesTheLog) {
  for (const Metadata* caller : {&owner_, &party_, &email_token_, &stranger_}) {
    EXPECT_EQ(remove(*caller).code(), absl::StatusCode::kPermissionDenied);
  }
  EXPECT_FALSE(stores_.state.events.at(event_id_).deleted);
  ASSERT_TRUE(remove(staff_).ok());
  EXPECT_TRUE(stores_.state.events.at(event_id_).deleted);
  EXPECT_EQ(stores_.log_of(event_id_).back().data, (nlohmann::json{{"closed", "deleted"}}));
  EXPECT_EQ(get(owner_).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(read_log(owner_).code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(read_log(staff_).ok());
}

TEST_F(EventServiceTest, RefusesMissingMetadata) {
  EXPECT_EQ(get(Metadata()).code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(get(as_token("0000000000000000000000000000000000000000")).code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(EventServiceTest, CreateLogsTheOpeningWithTheCallerFirst) {
  const v1::Event event = create({"new@there.net", "party@here.net"}, {slot_at(5)}, "  Picnic ");
  EXPECT_EQ(event.title(), "Picnic");
  EXPECT_EQ(std::vector<std::string>(event.parties().begin(), event.parties().end()),
            (std::vector<std::string>{"owner@here.net", "new@there.net", "party@here.net"}));
  const auto log = stores_.log_of(event.id());
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].occurrence, Occurrence::kUpdate);
  EXPECT_EQ(log[0].effector, "owner@here.net");
  EXPECT_EQ(log[0].slots, (std::vector<Slot>{slot_at(5)}));
  EXPECT_EQ(log[0].data, (nlohmann::json{{"opened", "created"}}));
  EXPECT_TRUE(stores_.find_by_login("new@there.net").has_value());  // a user row for the new party
}

TEST_F(EventServiceTest, CreateRefusesBadInputsAndStoresNothing) {
  v1::CreateEventRequest request;
  request.add_parties("not-an-email");
  auto* slot = request.add_slots();
  slot->mutable_duration()->set_seconds(-5);
  request.set_title(std::string(300, 'x'));
  const std::size_t events_before = stores_.state.events.size();
  v1::Event event;
  const absl::Status status = call(&EventServiceImpl::CreateEvent, owner_, request, event);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(violated_fields(status), (std::vector<std::string>{"parties", "slots", "title"}));
  EXPECT_EQ(stores_.state.events.size(), events_before);
}

TEST_F(EventServiceTest, PatchNarrowsTheSlotsAndLogsTheResult) {
  v1::UpdateEventRequest request;
  add_slots(*request.mutable_slots()->mutable_slots(), {slot_at(2)});
  ASSERT_TRUE(patch(email_token_, request).ok());
  EXPECT_EQ(stores_.state.events.at(event_id_).slots, (std::vector<Slot>{slot_at(2)}));
  const LogEntryRecord entry = stores_.log_of(event_id_).back();
  EXPECT_EQ(entry.occurrence, Occurrence::kUpdate);
  EXPECT_EQ(entry.effector, "party@here.net");
  EXPECT_EQ(entry.slots, (std::vector<Slot>{slot_at(2)}));
  EXPECT_EQ(entry.data, (nlohmann::json{{"token", "fp-0123"}}));  // the fingerprint, never the token

  ASSERT_TRUE(patch_title(owner_).ok());
  EXPECT_EQ(stores_.state.events.at(event_id_).title, "Dinner");
  EXPECT_EQ(stores_.log_of(event_id_).back().data, (nlohmann::json{{"title", "Dinner"}}));
}

TEST_F(EventServiceTest, PatchRefusesBadInputsAndChangesNothing) {
  const EventRecord before = stores_.state.events.at(event_id_);
  const std::size_t log_before = stores_.log_of(event_id_).size();
  const absl::Status empty = patch(owner_, v1::UpdateEventRequest());
  EXPECT_EQ(empty.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(violated_fields(empty), (std::vector<std::string>{"slots", "title"}));

  v1::UpdateEventRequest blank;
  blank.set_title("   ");
  EXPECT_EQ(violated_fields(patch(owner_, blank)), (std::vector<std::string>{"title"}));

  v1::UpdateEventRequest too_many;
  add_slots(*too_many.mutable_slots()->mutable_slots(), std::vector<Slot>(31, slot_at(1)));
  EXPECT_EQ(violated_fields(patch(owner_, too_many)), (std::vector<std::string>{"slots"}));

  EXPECT_EQ(stores_.state.events.at(event_id_).title, before.title);
  EXPECT_EQ(stores_.state.events.at(event_id_).slots, before.slots);
  EXPECT_EQ(stores_.log_of(event_id_).size(), log_before);
}

// SPEC §7: a title with a control character, a line or paragraph
// separator, a bidirectional override or isolate, or bytes that are not
// UTF-8 is refused naming `title`, on create and on PATCH, and changes nothing.
TEST_F(EventServiceTest, TitlesWithControlsOrBidiOverridesAreRefusedOnCreateAndPatch) {
  const std::size_t events_before = stores_.state.events.size();
  const std::size_t log_before = stores_.state.log.size();
  for (const std::string title : {"a\x7F", "\xC2\x85next line",
                                  "\xE2\x80\xAE"
                                  "evil",
                                  "\xE2\x81\xA6x", "caf\xC3"}) {
    v1::CreateEventRequest create_request;
    create_request.add_parties("party@here.net");
    create_request.set_title(title);
    v1::Event created;
    const absl::Status refused = call(&EventServiceImpl::CreateEvent, owner_, create_request, created);
    EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument) << title;
    EXPECT_EQ(violated_fields(refused), (std::vector<std::string>{"title"})) << title;
    EXPECT_EQ(violated_fields(patch_title(owner_, title)), (std::vector<std::string>{"title"})) << title;
  }
  EXPECT_EQ(stores_.state.events.size(), events_before);
  EXPECT_EQ(stores_.state.events.at(event_id_).title, "Lunch");
  EXPECT_EQ(stores_.state.log.size(), log_before);
}

// The current event a FAILED_PRECONDITION carries; id 0 when none.
v1::Event current_event_of(const absl::Status& status) {
  v1::Event event;
  const auto payload = status.GetPayload("type.googleapis.com/calndro.events.v1.Event");
  if (payload) {
    EXPECT_TRUE(event.ParseFromString(std::string(*payload)));
  }
  return event;
}

TEST_F(EventServiceTest, TheVersionGrowsWithChangesAndDeletionOnly) {
  v1::GetEventRequest get_request;
  get_request.set_id(event_id_);
  v1::Event seen;
  ASSERT_TRUE(call(&EventServiceImpl::GetEvent, owner_, get_request, seen).ok());
  EXPECT_EQ(seen.version(), 1);
  v1::UpdateEventRequest request;
  request.set_title("Dinner");
  request.set_id(event_id_);
  ASSERT_TRUE(call(&EventServiceImpl::UpdateEvent, owner_, request, seen).ok());
  EXPECT_EQ(seen.version(), 2);
  ASSERT_TRUE(notify(owner_, {"party@here.net"}).ok());
  ASSERT_TRUE(get(owner_).ok());
  EXPECT_EQ(stores_.state.events.at(event_id_).version, 2) << "a view or a notify changes no version";
  ASSERT_TRUE(remove(staff_).ok());
  EXPECT_EQ(stores_.state.events.at(event_id_).version, 3);
}

TEST_F(EventServiceTest, AStaleExpectedVersionChangesNothingAndCarriesTheCurrentEvent) {
  v1::UpdateEventRequest request;
  request.set_title("Dinner");
  request.set_expected_version(1);
  ASSERT_TRUE(patch(owner_, request).ok());
  const std::size_t log_before = stores_.log_of(event_id_).size();
  request.set_title("Breakfast");
  const absl::Status stale_patch = patch(owner_, request);
  EXPECT_TRUE(absl::IsFailedPrecondition(stale_patch)) << stale_patch;
  EXPECT_EQ(current_event_of(stale_patch).version(), 2);
  EXPECT_EQ(current_event_of(stale_patch).title(), "Dinner");

  v1::NotifyPartiesRequest notify_request;
  notify_request.set_id(event_id_);
  notify_request.add_parties("party@here.net");
  add_slots(*notify_request.mutable_slots(), {slot_at(1), slot_at(2), slot_at(3)});
  notify_request.set_expected_version(1);
  v1::NotifyPartiesResponse notified;
  const absl::Status stale_notify = call(&EventServiceImpl::NotifyParties, owner_, notify_request, notified);
  EXPECT_TRUE(absl::IsFailedPrecondition(stale_notify)) << stale_notify;
  EXPECT_EQ(current_event_of(stale_notify).version(), 2);

  v1::DeleteEventRequest delete_request;
  delete_request.set_id(event_id_);
  delete_request.set_expected_version(1);
  google::protobuf::Empty empty;
  const absl::Status stale_delete = call(&EventServiceImpl::DeleteEvent, staff_, delete_request, empty);
  EXPECT_TRUE(absl::IsFailedPrecondition(stale_delete)) << stale_delete;

  EXPECT_EQ(stores_.state.events.at(event_id_).title, "Dinner");
  EXPECT_FALSE(stores_.state.events.at(event_id_).deleted);
  EXPECT_TRUE(notifications_.queued.empty());
  EXPECT_EQ(stores_.log_of(event_id_).size(), log_before);
  notify_request.set_expected_version(2);
  EXPECT_TRUE(call(&EventServiceImpl::NotifyParties, owner_, notify_request, notified).ok());
  delete_request.set_expected_version(2);
  EXPECT_TRUE(call(&EventServiceImpl::DeleteEvent, staff_, delete_request, empty).ok());
}

TEST_F(EventServiceTest, NotifyWritesItsIntentAndOneLogEntryPerRecipientAndCallsNoOne) {
  ASSERT_TRUE(notify(owner_, {"party@here.net", "owner@here.net"}).ok());
  EXPECT_TRUE(notifications_.queued.empty());  // the relay hands it over, after the commit
  EXPECT_EQ(committed_notifies_, 1);
  ASSERT_EQ(stores_.state.outbox.size(), 1u);
  const FakeStores::Outboxed& pending = stores_.state.outbox.begin()->second;
  EXPECT_EQ(pending.state, "pending");
  EXPECT_EQ(pending.notification.id.rfind("ev-" + std::to_string(event_id_) + "-", 0), 0u);
  EXPECT_EQ(pending.notification.recipients, (std::vector<std::string>{"party@here.net", "owner@here.net"}));
  EXPECT_EQ(pending.notification.caller_request_id, "req-1");
  notify_v1::QueueNotificationsRequest queued;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(pending.notification.request, &queued).ok());
  EXPECT_EQ(queued.request_id(), pending.notification.id);
  EXPECT_EQ(queued.sender(), "owner@here.net");
  EXPECT_EQ(queued.recipients_size(), 2);
  EXPECT_EQ(queued.slots_size(), 3);
  const auto log = stores_.log_of(event_id_);
  ASSERT_EQ(log.size(), 3u);  // the creation, then one per recipient
  for (std::size_t i = 1; i < 3; ++i) {
    EXPECT_EQ(log[i].occurrence, Occurrence::kNotify);
    EXPECT_EQ(log[i].effector, "owner@here.net");
    EXPECT_EQ(log[i].slots.size(), 3u);
  }
  EXPECT_EQ(log[1].data, (nlohmann::json{{"recipient", "party@here.net"}, {"sender", "owner@here.net"}}));
}

TEST_F(EventServiceTest, EachNotifyGetsItsOwnIntentId) {
  ASSERT_TRUE(notify(owner_, {"party@here.net"}).ok());
  ASSERT_TRUE(notify(owner_, {"party@here.net"}).ok());
  EXPECT_EQ(stores_.state.outbox.size(), 2u);
}

TEST_F(EventServiceTest, NotifyRefusesAStaleViewOrAStrangerAndSendsNothing) {
  const absl::Status stale = notify(owner_, {"party@here.net"}, {slot_at(1)});
  EXPECT_EQ(violated_fields(stale), (std::vector<std::string>{"slots"}));
  const absl::Status outsider = notify(owner_, {"stranger@here.net"});
  EXPECT_EQ(violated_fields(outsider), (std::vector<std::string>{"parties"}));
  EXPECT_TRUE(stores_.state.outbox.empty());
  EXPECT_EQ(committed_notifies_, 0);
  EXPECT_EQ(stores_.log_of(event_id_).size(), 1u);
}

TEST_F(EventServiceTest, NotifyIsAcceptedWhileTheNotificationServiceIsDown) {
  notifications_.queue_status = absl::UnavailableError("down");
  EXPECT_TRUE(notify(owner_, {"party@here.net"}).ok());
  EXPECT_EQ(stores_.state.outbox.size(), 1u);
  EXPECT_EQ(stores_.log_of(event_id_).size(), 2u);
}

// The intent and the log entries commit together: a failure after the
// outbox row was written leaves neither.
TEST_F(EventServiceTest, NotifyWritesIntentAndLogEntriesInOneTransaction) {
  const auto log_before = stores_.log_of(event_id_).size();
  stores_.fail_log_append = true;
  EXPECT_FALSE(notify(owner_, {"party@here.net"}).ok());
  EXPECT_TRUE(stores_.state.outbox.empty());
  EXPECT_EQ(stores_.log_of(event_id_).size(), log_before);
  EXPECT_EQ(committed_notifies_, 0);
}

TEST_F(EventServiceTest, NotifyCountsMailsPerHour) {
  std::vector<std::string> everyone(1, "party@here.net");
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(notify(owner_, everyone).ok()) << i;
    clock_.advance(std::chrono::seconds(1));
  }
  const absl::Status over = notify(owner_, everyone);
  EXPECT_EQ(over.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(decode_details(over).retry_after.has_value());
  EXPECT_TRUE(notify(party_, everyone).ok());  // counted per sender
}

TEST_F(EventServiceTest, PagingSpeaksProtoFieldNames) {
  v1::ListEventsRequest request;
  request.set_page_size(1001);
  request.set_page_token("not-a-cursor");
  v1::ListEventsResponse response;
  const absl::Status status = call(&EventServiceImpl::ListEvents, owner_, request, response);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(violated_fields(status), (std::vector<std::string>{"page_size", "page_token"}));
}

TEST_F(EventServiceTest, ListsOnlyTheCallersEventsUnlessStaff) {
  create({"someone@there.net"}, {slot_at(1)});
  v1::ListEventsResponse mine;
  ASSERT_TRUE(list(party_, &mine).ok());
  EXPECT_EQ(mine.events_size(), 1);
  v1::ListEventsResponse all;
  ASSERT_TRUE(list(staff_, &all).ok());
  EXPECT_EQ(all.events_size(), 2);
}

TEST_F(EventServiceTest, GetLogsAViewOnItsOwn) {
  ASSERT_TRUE(get(email_token_).ok());
  const LogEntryRecord entry = stores_.log_of(event_id_).back();
  EXPECT_EQ(entry.occurrence, Occurrence::kView);
  EXPECT_EQ(entry.data, (nlohmann::json{{"token", "fp-0123"}}));
  EXPECT_EQ(stores_.runs.back(), Atomicity::kPerStatement);
}

TEST_F(EventServiceTest, CalendarLogsAViewAsGetDoesAndListsEachSlotWhileOpen) {
  v1::EventCalendar calendar;
  ASSERT_TRUE(this->calendar(email_token_, &calendar).ok());
  const LogEntryRecord entry = stores_.log_of(event_id_).back();
  EXPECT_EQ(entry.occurrence, Occurrence::kView);
  EXPECT_EQ(entry.effector, "party@here.net");
  EXPECT_EQ(entry.data, (nlohmann::json{{"token", "fp-0123"}}));
  EXPECT_EQ(stores_.runs.back(), Atomicity::kPerStatement);
  EXPECT_EQ(calendar.file_name(), "calndro-" + std::to_string(event_id_) + ".ics");
  const std::string& ics = calendar.ics();
  EXPECT_NE(ics.find("\r\nMETHOD:PUBLISH\r\n"), std::string::npos) << ics;
  std::size_t tentative = 0;
  for (std::size_t at = ics.find("STATUS:TENTATIVE"); at != std::string::npos;
       at = ics.find("STATUS:TENTATIVE", at + 1)) {
    ++tentative;
  }
  EXPECT_EQ(tentative, 3u);
  EXPECT_NE(ics.find("\r\nSUMMARY:Lunch\r\n"), std::string::npos);
  EXPECT_NE(ics.find("\r\nURL:https://cal.example.org/" + std::to_string(event_id_) + "/\r\n"),
            std::string::npos);
  EXPECT_EQ(ics.find("et="), std::string::npos) << "no token in a document that may be passed around";
}

// The event's URL in the document comes from the service's own public base
// URL: a base an older caller still sends (the removed field 2) is ignored.
TEST_F(EventServiceTest, CalendarUrlIsTheConfiguredBaseWhateverTheCallerSends) {
  v1::GetEventCalendarRequest old_caller;
  old_caller.GetReflection()->MutableUnknownFields(&old_caller)->AddLengthDelimited(2, "http://evil.example");
  v1::EventCalendar document;
  ASSERT_TRUE(calendar(party_, &document, old_caller).ok());
  EXPECT_NE(document.ics().find("\r\nURL:https://cal.example.org/" + std::to_string(event_id_) + "/\r\n"),
            std::string::npos)
      << document.ics();
  EXPECT_EQ(document.ics().find("evil"), std::string::npos) << document.ics();
}

// The document of an agreed event is the invitations' entry: their UID, the
// SEQUENCE of the last one mailed (here the second, after a new title), the
// agreed slot, the creator as ORGANIZER; and reading it is one VIEW.
TEST_F(EventServiceTest, CalendarOfAnAgreedEventIsTheConfirmedEntryOfTheInvitations) {
  ASSERT_TRUE(agree(owner_, slot_at(2)).ok());
  ASSERT_TRUE(patch_title(owner_).ok());
  const std::size_t before = stores_.log_of(event_id_).size();
  v1::EventCalendar calendar;
  ASSERT_TRUE(this->calendar(email_token_, &calendar).ok());
  const auto log = stores_.log_of(event_id_);
  ASSERT_EQ(log.size(), before + 1);
  EXPECT_EQ(log.back().occurrence, Occurrence::kView);
  EXPECT_EQ(log.back().effector, "party@here.net");
  EXPECT_EQ(log.back().data, (nlohmann::json{{"token", "fp-0123"}}));

  const std::string& ics = calendar.ics();
  std::size_t entries = 0;
  for (std::size_t at = ics.find("BEGIN:VEVENT"); at != std::string::npos;
       at = ics.find("BEGIN:VEVENT", at + 1)) {
    ++entries;
  }
  EXPECT_EQ(entries, 1u) << ics;
  const auto queued = queued_requests();
  ASSERT_EQ(queued.size(), 2u);
  EXPECT_EQ(queued.back().calendar().sequence(), 2);
  for (const std::string& line :
       {"UID:" + queued.back().calendar().uid(), std::string("SEQUENCE:2"), std::string("STATUS:CONFIRMED"),
        std::string("DTSTART:20251218T020000Z"), std::string("DTEND:20251218T030000Z"),
        std::string("SUMMARY:Dinner"), std::string("ORGANIZER:mailto:owner@here.net")}) {
    EXPECT_NE(ics.find("\r\n" + line + "\r\n"), std::string::npos) << line << "\n" << ics;
  }
  EXPECT_EQ(queued.back().calendar().uid(), "event-" + std::to_string(event_id_) + "@calndro");
  EXPECT_EQ(ics.find("TENTATIVE"), std::string::npos);
}

// A password not verified recently is checked between two connection
// leases, never inside one.
TEST_F(EventServiceTest, ChecksAPasswordBetweenTwoLeases) {
  init_crypto();
  User& owner = stores_.state.users.begin()->second;
  owner.password_hash = hash_password("owner-Pass-1");
  Metadata basic = {
      {"authorization", "Basic b3duZXJAaGVyZS5uZXQ6b3duZXItUGFzcy0x"}};  // owner@here.net:owner-Pass-1
  stores_.runs.clear();
  ASSERT_TRUE(get(basic).ok());
  EXPECT_EQ(stores_.runs.size(), 2u);
  stores_.runs.clear();
  ASSERT_TRUE(get(basic).ok());  // remembered: one lease
  EXPECT_EQ(stores_.runs.size(), 1u);

  basic = {{"authorization", "Basic b3duZXJAaGVyZS5uZXQ6d3Jvbmc="}};  // owner@here.net:wrong
  EXPECT_EQ(get(basic).code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(EventServiceTest, GivesUpWhenThePasswordKeepsChanging) {
  init_crypto();
  User& owner = stores_.state.users.begin()->second;
  stores_.before_run = [&owner] { owner.password_hash = hash_password("owner-Pass-1"); };  // a new salt
  const Metadata basic = {{"authorization", "Basic b3duZXJAaGVyZS5uZXQ6b3duZXItUGFzcy0x"}};
  stores_.runs.clear();
  const absl::Status status = get(basic);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_EQ(stores_.runs.size(), 3u);
}

// With each statement committing on its own, a connection lost during a
// write leaves it in doubt: not the "nothing happened" the pool retries on.
// SPEC §2 "who may agree": the creator by credentials or by an email token
// issued to the creator's email, and staff; every other caller with access
// is refused (403), and a refusal changes nothing and queues nothing.
TEST_F(EventServiceTest, OnlyTheCreatorAndStaffAgreeAndReopen) {
  struct Row {
    const char* who;
    const Metadata* caller;
    absl::StatusCode expected;
  };
  const Row rows[] = {
      {"creator by API key", &owner_, absl::StatusCode::kOk},
      {"creator by email token", &owner_token_, absl::StatusCode::kOk},
      {"staff", &staff_, absl::StatusCode::kOk},
      {"other party by API key", &party_, absl::StatusCode::kPermissionDenied},
      {"other party by email token", &email_token_, absl::StatusCode::kPermissionDenied},
      {"token for another event", &other_token_, absl::StatusCode::kPermissionDenied},
      {"registered non-party", &stranger_, absl::StatusCode::kPermissionDenied},
  };
  for (const Row& row : rows) {
    const std::size_t log_before = stores_.log_of(event_id_).size();
    const std::size_t outbox_before = stores_.state.outbox.size();
    EXPECT_EQ(agree(*row.caller, slot_at(2)).code(), row.expected) << row.who;
    if (row.expected != absl::StatusCode::kOk) {
      EXPECT_FALSE(stores_.state.events.at(event_id_).agreed_slot) << row.who;
      ASSERT_TRUE(agree(owner_, slot_at(2)).ok());
    }
    EXPECT_EQ(reopen(*row.caller).code(), row.expected) << row.who;
    if (row.expected != absl::StatusCode::kOk) {
      EXPECT_TRUE(stores_.state.events.at(event_id_).agreed_slot) << row.who;
      ASSERT_TRUE(reopen(owner_).ok());
    }
    EXPECT_EQ(stores_.log_of(event_id_).size(), log_before + 2) << row.who << ": one AGREE, one reopen";
    EXPECT_EQ(stores_.state.outbox.size(), outbox_before + 2) << row.who << ": one REQUEST, one CANCEL";
  }
}

TEST_F(EventServiceTest, AgreeFixesTheSlotLogsItAndQueuesAnInvitationToEveryParty) {
  v1::Event agreed;
  ASSERT_TRUE(agree(owner_token_, slot_at(2), std::nullopt, &agreed).ok());
  EXPECT_EQ(agreed.state(), v1::EVENT_STATE_AGREED);
  ASSERT_TRUE(agreed.has_agreed_slot());
  EXPECT_EQ(*slot_from_proto(agreed.agreed_slot()), slot_at(2));
  EXPECT_EQ(agreed.calendar_sequence(), 1);
  EXPECT_EQ(agreed.version(), 2);
  EXPECT_EQ(agreed.slots_size(), 3) << "agreeing keeps the proposal";
  EXPECT_EQ(committed_notifies_, 1);

  const auto log = stores_.log_of(event_id_);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[1].occurrence, Occurrence::kAgree);
  EXPECT_EQ(log[1].effector, "owner@here.net");
  const nlohmann::json slot = {{"begin", format_instant(slot_at(2).begin)}, {"duration", "01:00:00"}};
  EXPECT_EQ(log[1].data, (nlohmann::json{{"slot", slot}, {"token", "fp-0011"}}));

  const auto queued = queued_requests();
  ASSERT_EQ(queued.size(), 1u);
  const notify_v1::QueueNotificationsRequest& mail = queued[0];
  EXPECT_EQ(std::vector<std::string>(mail.recipients().begin(), mail.recipients().end()),
            (std::vector<std::string>{"owner@here.net", "party@here.net"}));
  EXPECT_EQ(mail.sender(), "owner@here.net");
  EXPECT_EQ(mail.event_title(), "Lunch");
  ASSERT_TRUE(mail.has_calendar());
  EXPECT_EQ(mail.calendar().method(), notify_v1::CalendarInvitation::METHOD_REQUEST);
  EXPECT_EQ(mail.calendar().uid(), "event-" + std::to_string(event_id_) + "@calndro");
  EXPECT_EQ(mail.calendar().sequence(), 1);
  EXPECT_EQ(*slot_from_proto(mail.calendar().slot()), slot_at(2));
  EXPECT_EQ(mail.calendar().organizer(), "owner@here.net");
  EXPECT_EQ(std::vector<std::string>(mail.calendar().attendees().begin(), mail.calendar().attendees().end()),
            (std::vector<std::string>{"owner@here.net", "party@here.net"}));
  EXPECT_FALSE(mail.calendar().without_link());

  v1::GetEventRequest get_request;
  get_request.set_id(event_id_);
  v1::Event seen;
  ASSERT_TRUE(call(&EventServiceImpl::GetEvent, party_, get_request, seen).ok());
  EXPECT_EQ(seen.state(), v1::EVENT_STATE_AGREED);
  EXPECT_EQ(seen.calendar_sequence(), 1);
  v1::ListEventsResponse listed;
  ASSERT_TRUE(list(party_, &listed).ok());
  ASSERT_EQ(listed.events_size(), 1);
  EXPECT_EQ(listed.events(0).state(), v1::EVENT_STATE_AGREED);
  EXPECT_TRUE(listed.events(0).has_agreed_slot());
}

TEST_F(EventServiceTest, AnOpenEventSaysSo) {
  v1::Event created = create({"party@here.net"}, {slot_at(1)});
  EXPECT_EQ(created.state(), v1::EVENT_STATE_OPEN);
  EXPECT_FALSE(created.has_agreed_slot());
  EXPECT_EQ(created.calendar_sequence(), 0);
}

TEST_F(EventServiceTest, AgreeRefusesASlotThatIsNotTheEventsAndChangesNothing) {
  EXPECT_EQ(violated_fields(agree(owner_, slot_at(7))), (std::vector<std::string>{"slot"}));
  // Equal as instant and duration, whatever the spelling: a slot of another length is another slot.
  EXPECT_EQ(violated_fields(agree(owner_, {slot_at(2).begin, std::chrono::minutes(30)})),
            (std::vector<std::string>{"slot"}));
  v1::AgreeEventRequest request;
  request.set_id(event_id_);
  v1::Event event;
  EXPECT_EQ(violated_fields(call(&EventServiceImpl::AgreeEvent, owner_, request, event)),
            (std::vector<std::string>{"slot"}));
  EXPECT_FALSE(stores_.state.events.at(event_id_).agreed_slot);
  EXPECT_EQ(stores_.log_of(event_id_).size(), 1u);
  EXPECT_TRUE(stores_.state.outbox.empty());
}

TEST_F(EventServiceTest, AgreeAndReopenWithAStaleVersionCarryTheCurrentEvent) {
  ASSERT_TRUE(patch_title(owner_).ok());  // version 2
  const absl::Status stale = agree(owner_, slot_at(1), 1);
  EXPECT_TRUE(absl::IsFailedPrecondition(stale)) << stale;
  EXPECT_EQ(current_event_of(stale).version(), 2);
  EXPECT_TRUE(decode_details(stale).reason.empty());
  EXPECT_FALSE(stores_.state.events.at(event_id_).agreed_slot);
  ASSERT_TRUE(agree(owner_, slot_at(1), 2).ok());

  v1::ReopenEventRequest request;
  request.set_id(event_id_);
  request.set_expected_version(2);
  v1::Event event;
  const absl::Status stale_reopen = call(&EventServiceImpl::ReopenEvent, owner_, request, event);
  EXPECT_EQ(current_event_of(stale_reopen).version(), 3);
  EXPECT_TRUE(stores_.state.events.at(event_id_).agreed_slot);
  EXPECT_EQ(stores_.state.outbox.size(), 1u);
}

TEST_F(EventServiceTest, AgreeingAgainOnTheSameSlotChangesNothingAndAnotherSlotMovesTheAgreement) {
  ASSERT_TRUE(agree(owner_, slot_at(1)).ok());
  v1::Event again;
  ASSERT_TRUE(agree(staff_, slot_at(1), std::nullopt, &again).ok());
  EXPECT_EQ(again.version(), 2);
  EXPECT_EQ(again.calendar_sequence(), 1);
  EXPECT_EQ(stores_.log_of(event_id_).size(), 2u);
  EXPECT_EQ(stores_.state.outbox.size(), 1u);

  clock_.advance(std::chrono::seconds(1));
  v1::Event moved;
  ASSERT_TRUE(agree(owner_, slot_at(3), std::nullopt, &moved).ok());
  EXPECT_EQ(*slot_from_proto(moved.agreed_slot()), slot_at(3));
  EXPECT_EQ(moved.calendar_sequence(), 2);
  EXPECT_EQ(stores_.log_of(event_id_).back().occurrence, Occurrence::kAgree);
  const auto queued = queued_requests();
  ASSERT_EQ(queued.size(), 2u);
  EXPECT_EQ(queued[1].calendar().method(), notify_v1::CalendarInvitation::METHOD_REQUEST);
  EXPECT_EQ(queued[1].calendar().sequence(), 2);
  EXPECT_EQ(*slot_from_proto(queued[1].calendar().slot()), slot_at(3));
}

TEST_F(EventServiceTest, WhileAgreedAPatchOfSlotsIsAConflictNotAStaleVersion) {
  ASSERT_TRUE(agree(owner_, slot_at(1)).ok());
  v1::UpdateEventRequest request;
  add_slots(*request.mutable_slots()->mutable_slots(), {slot_at(1)});
  request.set_title("Dinner");
  const absl::Status refused = patch(party_, request);
  EXPECT_TRUE(absl::IsFailedPrecondition(refused)) << refused;
  EXPECT_EQ(decode_details(refused).reason, kEventAgreedReason);
  EXPECT_FALSE(refused.GetPayload("type.googleapis.com/calndro.events.v1.Event").has_value());
  const EventRecord& event = stores_.state.events.at(event_id_);
  EXPECT_EQ(event.slots.size(), 3u);
  EXPECT_EQ(event.title, "Lunch");
  EXPECT_EQ(event.version, 2);
  EXPECT_EQ(stores_.log_of(event_id_).size(), 2u);
  EXPECT_EQ(stores_.state.outbox.size(), 1u);
}

TEST_F(EventServiceTest, ANewTitleWhileAgreedSendsTheInvitationAgainInTheSameTransaction) {
  ASSERT_TRUE(agree(owner_, slot_at(2)).ok());
  stores_.runs.clear();
  clock_.advance(std::chrono::seconds(1));
  v1::UpdateEventRequest request;
  request.set_id(event_id_);
  request.set_title("Dinner");
  v1::Event changed;
  ASSERT_TRUE(call(&EventServiceImpl::UpdateEvent, owner_token_, request, changed).ok());
  EXPECT_EQ(changed.title(), "Dinner");
  EXPECT_EQ(changed.state(), v1::EVENT_STATE_AGREED);
  EXPECT_EQ(changed.calendar_sequence(), 2);
  EXPECT_EQ(stores_.runs.back(), Atomicity::kTransaction);
  const auto log = stores_.log_of(event_id_);
  EXPECT_EQ(log.back().occurrence, Occurrence::kUpdate);
  EXPECT_EQ(log.back().data, (nlohmann::json{{"title", "Dinner"}, {"token", "fp-0011"}}));
  const auto queued = queued_requests();
  ASSERT_EQ(queued.size(), 2u);
  EXPECT_EQ(queued[1].event_title(), "Dinner");
  EXPECT_EQ(queued[1].calendar().method(), notify_v1::CalendarInvitation::METHOD_REQUEST);
  EXPECT_EQ(queued[1].calendar().sequence(), 2);
  EXPECT_EQ(queued[1].sender(), "owner@here.net");
  EXPECT_EQ(queued[1].recipients_size(), 2);
}

// SPEC §2: a new title of an agreed event re-invites every party, so only
// the creator (by any credential) and staff set one. Another party, by key
// or by email token, is refused and nothing is written or queued; while the
// event is open, any party still renames it.
TEST_F(EventServiceTest, OnlyTheCreatorAndStaffRenameAnAgreedEvent) {
  ASSERT_TRUE(patch_title(party_, "Brunch").ok()) << "open: any party renames";
  ASSERT_TRUE(agree(owner_, slot_at(1)).ok());
  const EventRecord before = stores_.state.events.at(event_id_);
  const std::size_t log_before = stores_.log_of(event_id_).size();
  for (const Metadata* party : {&party_, &email_token_}) {
    const absl::Status refused = patch_title(*party, "Party at mine");
    EXPECT_EQ(refused.code(), absl::StatusCode::kPermissionDenied) << refused;
    EXPECT_NE(refused.message().find("creator and staff"), std::string_view::npos) << refused;
  }
  const EventRecord& after = stores_.state.events.at(event_id_);
  EXPECT_EQ(after.title, "Brunch");
  EXPECT_EQ(after.version, before.version);
  EXPECT_EQ(after.calendar_sequence, before.calendar_sequence);
  EXPECT_EQ(stores_.log_of(event_id_).size(), log_before);
  EXPECT_EQ(stores_.state.outbox.size(), 1u) << "the agreement's invitation only";

  for (const Metadata* allowed : {&owner_, &owner_token_, &staff_}) {
    EXPECT_TRUE(patch_title(*allowed).ok());
  }
  EXPECT_EQ(stores_.state.events.at(event_id_).calendar_sequence, 4);
  EXPECT_EQ(stores_.state.outbox.size(), 4u);
}

// SPEC §7: every mail a request causes counts against the caller. The
// event has two parties, so each agree or reopen mails two: fifty of them
// use the creator's hundred mails of the hour, by key or by token alike.
TEST_F(EventServiceTest, AgreeAndReopenFlipsPastTheHourlyLimitAreRefusedAndQueueNothing) {
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(agree(i % 2 == 0 ? owner_ : owner_token_, slot_at(1 + i % 2)).ok()) << i;
    ASSERT_TRUE(reopen(owner_).ok()) << i;
    clock_.advance(std::chrono::seconds(1));
  }
  ASSERT_EQ(stores_.state.outbox.size(), 50u);
  const EventRecord before = stores_.state.events.at(event_id_);
  const std::size_t log_before = stores_.log_of(event_id_).size();
  for (const Metadata* creator : {&owner_, &owner_token_}) {
    const absl::Status over = agree(*creator, slot_at(2));
    EXPECT_EQ(over.code(), absl::StatusCode::kResourceExhausted) << over;
    // The first agree's two mails leave the hour 25 seconds from now.
    EXPECT_EQ(decode_details(over).retry_after, std::chrono::seconds(3600 - 25));
  }
  EXPECT_EQ(notify(owner_, {"party@here.net"}).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(stores_.state.events.at(event_id_).version, before.version);
  EXPECT_FALSE(stores_.state.events.at(event_id_).agreed_slot);
  EXPECT_EQ(stores_.log_of(event_id_).size(), log_before);
  EXPECT_EQ(stores_.state.outbox.size(), 50u);

  // Staff have an hour of their own; the creator still may not reopen or rename.
  ASSERT_TRUE(agree(staff_, slot_at(1)).ok());
  EXPECT_EQ(reopen(owner_).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(patch_title(owner_).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(stores_.state.events.at(event_id_).title, "Lunch");
  EXPECT_EQ(stores_.state.outbox.size(), 51u);

  clock_.advance(std::chrono::seconds(3600 - 25));
  EXPECT_TRUE(reopen(owner_).ok()) << "the first agree's mails have left the hour";
}

// A notify and a new title of an agreed event draw on the same hour.
TEST_F(EventServiceTest, ANewTitleOfAnAgreedEventCountsItsMailsWithTheNotifies) {
  ASSERT_TRUE(agree(owner_, slot_at(1)).ok());
  for (int i = 0; i < 97; ++i) {
    ASSERT_TRUE(notify(owner_, {"party@here.net"}).ok()) << i;
  }
  const absl::Status over = patch_title(owner_);  // two more than the 99 caused
  EXPECT_EQ(over.code(), absl::StatusCode::kResourceExhausted) << over;
  EXPECT_EQ(stores_.state.events.at(event_id_).title, "Lunch");
  EXPECT_EQ(stores_.state.events.at(event_id_).calendar_sequence, 1);
  EXPECT_EQ(stores_.state.outbox.size(), 98u);
  EXPECT_TRUE(notify(owner_, {"party@here.net"}).ok()) << "the hundredth mail fits";
  EXPECT_EQ(notify(owner_, {"party@here.net"}).code(), absl::StatusCode::kResourceExhausted);
}

// Staff must be able to take an event down whatever mail they caused: a
// deletion is never refused by the limit, but its cancellations count.
TEST_F(EventServiceTest, ADeletionIsNeverRefusedByTheMailLimitButItsMailsCount) {
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(agree(staff_, slot_at(1)).ok()) << i;
    ASSERT_TRUE(reopen(staff_).ok()) << i;
  }
  EXPECT_EQ(agree(staff_, slot_at(1)).code(), absl::StatusCode::kResourceExhausted);
  ASSERT_TRUE(agree(owner_, slot_at(1)).ok()) << "the creator's hour is untouched";
  ASSERT_TRUE(remove(staff_).ok());
  const auto queued = queued_requests();
  ASSERT_EQ(queued.size(), 52u);
  EXPECT_EQ(queued.back().calendar().method(), notify_v1::CalendarInvitation::METHOD_CANCEL);
  std::int64_t by_staff = 0;
  for (const QueuedMails& row :
       stores_.mails_caused_since(event_id_, "staff@here.net", clock_.now() - std::chrono::hours(1))) {
    by_staff += row.mails;
  }
  EXPECT_EQ(by_staff, 102);
}

TEST_F(EventServiceTest, ReopenCancelsTheCalendarEntryAndAnOpenEventCannotBeReopened) {
  const absl::Status open = reopen(owner_);
  EXPECT_TRUE(absl::IsFailedPrecondition(open)) << open;
  EXPECT_EQ(decode_details(open).reason, kEventNotAgreedReason);
  EXPECT_EQ(stores_.log_of(event_id_).size(), 1u);

  ASSERT_TRUE(agree(owner_, slot_at(3)).ok());
  clock_.advance(std::chrono::seconds(1));
  v1::Event reopened;
  ASSERT_TRUE(reopen(staff_, &reopened).ok());
  EXPECT_EQ(reopened.state(), v1::EVENT_STATE_OPEN);
  EXPECT_FALSE(reopened.has_agreed_slot());
  EXPECT_EQ(reopened.calendar_sequence(), 2);
  EXPECT_EQ(reopened.version(), 3);
  const auto log = stores_.log_of(event_id_);
  EXPECT_EQ(log.back().occurrence, Occurrence::kUpdate);
  EXPECT_EQ(log.back().effector, "staff@here.net");
  EXPECT_EQ(log.back().data, (nlohmann::json{{"reopened", true}}));
  const auto queued = queued_requests();
  ASSERT_EQ(queued.size(), 2u);
  EXPECT_EQ(queued[1].calendar().method(), notify_v1::CalendarInvitation::METHOD_CANCEL);
  EXPECT_EQ(queued[1].calendar().uid(), queued[0].calendar().uid());
  EXPECT_EQ(queued[1].calendar().sequence(), 2);
  EXPECT_EQ(*slot_from_proto(queued[1].calendar().slot()), slot_at(3));
  EXPECT_EQ(queued[1].recipients_size(), 2);

  v1::UpdateEventRequest narrow;
  add_slots(*narrow.mutable_slots()->mutable_slots(), {slot_at(3)});
  EXPECT_TRUE(patch(owner_, narrow).ok()) << "reopened: the slots may change again";
  EXPECT_EQ(stores_.state.outbox.size(), 2u) << "a change of an open event mails no one";
}

TEST_F(EventServiceTest, DeletingAnAgreedEventCancelsItWithoutALink) {
  ASSERT_TRUE(agree(owner_, slot_at(1)).ok());
  clock_.advance(std::chrono::seconds(1));
  ASSERT_TRUE(remove(staff_).ok());
  const EventRecord& event = stores_.state.events.at(event_id_);
  EXPECT_TRUE(event.deleted);
  EXPECT_EQ(event.calendar_sequence, 2);
  const auto queued = queued_requests();
  ASSERT_EQ(queued.size(), 2u);
  EXPECT_EQ(queued[1].calendar().method(), notify_v1::CalendarInvitation::METHOD_CANCEL);
  EXPECT_EQ(queued[1].calendar().sequence(), 2);
  EXPECT_TRUE(queued[1].calendar().without_link());
  EXPECT_EQ(queued[1].recipients_size(), 2);
  EXPECT_EQ(committed_notifies_, 2);
}

TEST_F(EventServiceTest, DeletingAnOpenEventMailsNoOne) {
  ASSERT_TRUE(remove(staff_).ok());
  EXPECT_TRUE(stores_.state.outbox.empty());
  EXPECT_EQ(stores_.state.events.at(event_id_).calendar_sequence, 0);
}

TEST(WrittenOnce, TurnsABrokenConnectionIntoDoubtPerStatementOnly) {
  const auto broken = []() -> int { throw pqxx::broken_connection("lost"); };
  const CallContext call = CallContext::background();
  EXPECT_THROW(written_once(/*per_statement=*/true, call, broken), pqxx::in_doubt_error);
  EXPECT_THROW(written_once(/*per_statement=*/false, call, broken), pqxx::broken_connection);
  EXPECT_EQ(written_once(true, call, [] { return 7; }), 7);
}

// Nothing rolls back a write that commits on its own: past the deadline of
// the call it was handed, it is not sent at all.
TEST(WrittenOnce, RefusesAWriteOnItsOwnPastTheCallsDeadline) {
  CallContext past;
  past.deadline = std::chrono::system_clock::now() - std::chrono::seconds(1);
  int writes = 0;
  const auto write = [&writes] { return ++writes; };
  try {
    written_once(/*per_statement=*/true, past, write);
    ADD_FAILURE() << "the write was sent";
  } catch (const CallAbandoned& abandoned) {
    EXPECT_EQ(abandoned.status().code(), absl::StatusCode::kDeadlineExceeded);
  }
  EXPECT_EQ(writes, 0);
  EXPECT_EQ(written_once(/*per_statement=*/false, past, write), 1);  // a transaction checks before COMMIT
}

// WatchEvent is the service's one async method and none is on the callback
// API: a callback method makes gRPC 1.51 build a hybrid server, whose
// synchronous queues stop polling the network, and every other RPC then
// waits out the callback threads' 100 ms naps now and again
// (services/events/watch_serving.h).
TEST_F(EventServiceTest, KeepsTheServerSynchronousWithWatchEventOnTheAsyncApi) {
  EXPECT_FALSE(service_.has_callback_methods());
  EXPECT_TRUE(service_.has_async_methods());
  EXPECT_TRUE(service_.has_synchronous_methods());
}

}  // namespace
}  // namespace calndro::events
