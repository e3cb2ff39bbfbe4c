#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

#include "common/grpc/rich_status.h"
#include "common/text/proto_time.h"
#include "events/event_mapping.h"
#include "service_fixture.h"

// SPEC §9 in the event service against in-memory stores: the deadline and
// the reminder's lead on create and PATCH, answers and their visibility,
// AnswerSlots' rules, and what each writes to the log.
namespace calndro::events {
namespace {

using Code = absl::StatusCode;

constexpr const char* kPartyToken = "0123456789abcdef0123456789abcdef01234567";
constexpr const char* kOwnerToken = "00112233445566778899aabbccddeeff00112233";
constexpr const char* kOtherEventToken = "fedcba9876543210fedcba9876543210fedcba98";

std::vector<std::string> violated_fields(const absl::Status& status) {
  std::vector<std::string> fields;
  for (const auto& violation : decode_details(status).violations) {
    fields.push_back(violation.field);
  }
  return fields;
}

class AnswersTest : public ServiceFixture {
 protected:
  AnswersTest() {
    owner_ = as_token(stores_.add_user("owner@here.net"));
    party_ = as_token(stores_.add_user("party@here.net"));
    stranger_ = as_token(stores_.add_user("stranger@here.net"));
    staff_ = as_token(stores_.add_user("staff@here.net", /*staff=*/true));
    staff_party_ = as_token(stores_.add_user("staffer@here.net", /*staff=*/true));
    event_id_ = create(base_request()).id();
    add_email_token(kPartyToken, event_id_, "party@here.net");
    add_email_token(kOwnerToken, event_id_, "owner@here.net");
    add_email_token(kOtherEventToken, event_id_ + 1000, "party@here.net");
    party_token_ = {{"x-email-token", kPartyToken}};
    owner_token_ = {{"x-email-token", kOwnerToken}};
    other_event_token_ = {{"x-email-token", kOtherEventToken}};
  }

  // Parties owner (the creator), party, guest and staffer; slots 1, 2, 3.
  static v1::CreateEventRequest base_request() {
    v1::CreateEventRequest request;
    for (const char* party : {"party@here.net", "guest@here.net", "staffer@here.net"}) {
      request.add_parties(party);
    }
    for (const Slot& slot : {slot_at(1), slot_at(2), slot_at(3)}) {
      slot_to_proto(slot, *request.add_slots());
    }
    request.set_title("Lunch");
    return request;
  }

  v1::Event create(const v1::CreateEventRequest& request, absl::Status* status_out = nullptr) {
    v1::Event event;
    const absl::Status status = call(&EventServiceImpl::CreateEvent, owner_, request, event);
    if (status_out != nullptr) {
      *status_out = status;
    } else {
      EXPECT_TRUE(status.ok()) << status;
    }
    return event;
  }

  absl::Status patch(const Metadata& caller, v1::UpdateEventRequest request, v1::Event* out = nullptr) {
    request.set_id(event_id_);
    v1::Event event;
    const absl::Status status = call(&EventServiceImpl::UpdateEvent, caller, request, event);
    if (out != nullptr) {
      *out = event;
    }
    return status;
  }

  v1::Event get(const Metadata& caller) {
    v1::GetEventRequest request;
    request.set_id(event_id_);
    v1::Event event;
    const absl::Status status = call(&EventServiceImpl::GetEvent, caller, request, event);
    EXPECT_TRUE(status.ok()) << status;
    return event;
  }

  // AnswerSlots on the fixture's event; `answers` as (slot, answer) pairs.
  absl::Status answer(const Metadata& caller, const std::vector<std::pair<Slot, v1::Answer>>& answers,
                      v1::Event* out = nullptr, std::optional<std::int64_t> expected = std::nullopt) {
    v1::AnswerSlotsRequest request;
    request.set_id(event_id_);
    for (const auto& [slot, word] : answers) {
      v1::SlotAnswer& one = *request.add_answers();
      slot_to_proto(slot, *one.mutable_slot());
      one.set_answer(word);
    }
    if (expected) {
      request.set_expected_version(*expected);
    }
    return answer_request(caller, request, out);
  }

  absl::Status answer_request(const Metadata& caller, const v1::AnswerSlotsRequest& request,
                              v1::Event* out = nullptr) {
    v1::Event event;
    const absl::Status status = call(&EventServiceImpl::AnswerSlots, caller, request, event);
    if (out != nullptr) {
      *out = event;
    }
    return status;
  }

  // The deadline, as the creator sets it.
  void set_deadline(Instant at) {
    v1::UpdateEventRequest request;
    *request.mutable_respond_by()->mutable_at() = instant_to_proto(at);
    ASSERT_TRUE(patch(owner_, request).ok());
  }

  const EventRecord& stored() const { return stores_.state.events.at(event_id_); }
  std::vector<LogEntryRecord> log() const { return stores_.log_of(event_id_); }

  Instant in_hours(int hours) const { return clock_.now() + std::chrono::hours(hours); }

  Metadata owner_, party_, stranger_, staff_, staff_party_, party_token_, owner_token_, other_event_token_;
  std::int64_t event_id_ = 0;
};

TEST_F(AnswersTest, AnEventStartsWithoutDeadlineOrAnswersAndRemindsADayAhead) {
  const v1::Event event = get(owner_);
  EXPECT_FALSE(event.has_respond_by());
  EXPECT_EQ(event.remind_before().seconds(), 24 * 3600);
  EXPECT_FALSE(event.hide_answers());
  EXPECT_EQ(event.answers_size(), 0);
  ASSERT_EQ(event.tally_size(), 3);
  EXPECT_EQ(event.tally(0).pending(), 4);
  EXPECT_FALSE(event.has_best_slot());
}

TEST_F(AnswersTest, CreateTakesTheDeadlineTheLeadAndHiddenAnswers) {
  v1::CreateEventRequest request = base_request();
  *request.mutable_respond_by() = instant_to_proto(in_hours(48));
  *request.mutable_remind_before() = duration_to_proto(std::chrono::minutes(90));
  request.set_hide_answers(true);
  const v1::Event event = create(request);
  EXPECT_EQ(instant_from_proto(event.respond_by()), in_hours(48));
  EXPECT_EQ(duration_from_proto(event.remind_before()), std::chrono::minutes(90));
  EXPECT_TRUE(event.hide_answers());
  const EventRecord& record = stores_.state.events.at(event.id());
  EXPECT_EQ(record.respond_by, in_hours(48));
  EXPECT_EQ(record.remind_before, std::chrono::minutes(90));
  EXPECT_TRUE(record.hide_answers);
}

TEST_F(AnswersTest, CreateRefusesAPastDeadlineOrABadLeadAndStoresNothing) {
  const std::size_t events = stores_.state.events.size();
  struct Case {
    std::optional<Instant> respond_by;
    std::optional<google::protobuf::Duration> remind_before;
    const char* field;
  };
  google::protobuf::Duration zero;
  google::protobuf::Duration negative;
  negative.set_seconds(-60);
  google::protobuf::Duration too_long = duration_to_proto(std::chrono::days(367));
  google::protobuf::Duration nanos;
  nanos.set_nanos(5);
  const Case cases[] = {
      {clock_.now(), std::nullopt, "respond_by"},
      {clock_.now() - std::chrono::seconds(1), std::nullopt, "respond_by"},
      {std::nullopt, zero, "remind_before"},
      {std::nullopt, negative, "remind_before"},
      {std::nullopt, too_long, "remind_before"},
      {std::nullopt, nanos, "remind_before"},
  };
  for (const Case& bad : cases) {
    v1::CreateEventRequest request = base_request();
    if (bad.respond_by) {
      *request.mutable_respond_by() = instant_to_proto(*bad.respond_by);
    }
    if (bad.remind_before) {
      *request.mutable_remind_before() = *bad.remind_before;
    }
    absl::Status status;
    create(request, &status);
    EXPECT_EQ(status.code(), Code::kInvalidArgument) << bad.field;
    EXPECT_EQ(violated_fields(status), std::vector<std::string>{bad.field}) << status;
  }
  v1::CreateEventRequest request = base_request();
  request.mutable_respond_by()->set_seconds(google::protobuf::util::TimeUtil::kTimestampMaxSeconds + 1);
  absl::Status status;
  create(request, &status);
  EXPECT_EQ(violated_fields(status), std::vector<std::string>{"respond_by"}) << status;
  EXPECT_EQ(stores_.state.events.size(), events);
}

TEST_F(AnswersTest, TheCreatorSetsMovesAndClearsTheDeadlineEachAnUpdateEntry) {
  v1::UpdateEventRequest request;
  request.mutable_respond_by()->mutable_at()->CopyFrom(instant_to_proto(in_hours(5)));
  *request.mutable_remind_before() = duration_to_proto(std::chrono::hours(2));
  v1::Event event;
  ASSERT_TRUE(patch(owner_, request, &event).ok());
  EXPECT_EQ(instant_from_proto(event.respond_by()), in_hours(5));
  EXPECT_EQ(duration_from_proto(event.remind_before()), std::chrono::hours(2));
  EXPECT_EQ(event.version(), 2);
  EXPECT_EQ(log().back().occurrence, Occurrence::kUpdate);
  EXPECT_EQ(log().back().data, nlohmann::json::parse(R"({"respond_by": ")" + format_instant(in_hours(5)) +
                                                     R"(", "remind_before": "02:00:00"})"));

  v1::UpdateEventRequest clear;
  clear.mutable_respond_by();  // present without `at`: no deadline
  ASSERT_TRUE(patch(owner_token_, clear, &event).ok());
  EXPECT_FALSE(event.has_respond_by());
  EXPECT_EQ(duration_from_proto(event.remind_before()), std::chrono::hours(2)) << "the lead stays";
  EXPECT_EQ(stored().respond_by, std::nullopt);
  EXPECT_EQ(log().back().data, nlohmann::json::parse(R"({"respond_by": null, "token": "fp-0011"})"));

  ASSERT_TRUE(patch(staff_, request).ok());
  EXPECT_EQ(stored().respond_by, in_hours(5));
  EXPECT_EQ(stored().version, 4);
}

TEST_F(AnswersTest, OnlyTheCreatorAndStaffMoveTheDeadline) {
  v1::UpdateEventRequest deadline;
  *deadline.mutable_respond_by()->mutable_at() = instant_to_proto(in_hours(5));
  v1::UpdateEventRequest lead;
  *lead.mutable_remind_before() = duration_to_proto(std::chrono::hours(1));
  const std::size_t entries = log().size();
  for (const Metadata& caller : {party_, party_token_}) {
    for (const v1::UpdateEventRequest& request : {deadline, lead}) {
      v1::UpdateEventRequest with_title = request;
      with_title.set_title("Dinner");
      EXPECT_EQ(patch(caller, with_title).code(), Code::kPermissionDenied);
    }
  }
  EXPECT_EQ(patch(stranger_, deadline).code(), Code::kPermissionDenied);
  EXPECT_EQ(patch(other_event_token_, deadline).code(), Code::kPermissionDenied);
  EXPECT_EQ(log().size(), entries);
  EXPECT_EQ(stored().title, "Lunch");
  EXPECT_EQ(stored().respond_by, std::nullopt);
  EXPECT_EQ(stored().version, 1);
}

TEST_F(AnswersTest, APatchRefusesAPastDeadlineOrABadLeadAndChangesNothing) {
  v1::UpdateEventRequest past;
  *past.mutable_respond_by()->mutable_at() = instant_to_proto(clock_.now());
  EXPECT_EQ(violated_fields(patch(owner_, past)), std::vector<std::string>{"respond_by"});
  v1::UpdateEventRequest zero;
  zero.mutable_remind_before();
  EXPECT_EQ(violated_fields(patch(owner_, zero)), std::vector<std::string>{"remind_before"});
  EXPECT_EQ(stored().version, 1);
  EXPECT_EQ(log().size(), 1u);
}

TEST_F(AnswersTest, ANewSlotSetKeepsOnlyTheAnswersToItsSlots) {
  stores_.state.events.at(event_id_).answers = {
      {"party@here.net", {{slot_at(1), Answer::kYes}, {slot_at(2), Answer::kNo}}},
      {"guest@here.net", {{slot_at(2), Answer::kMaybe}}},
  };
  v1::UpdateEventRequest narrow;
  for (const Slot& slot : {slot_at(1), slot_at(3)}) {
    slot_to_proto(slot, *narrow.mutable_slots()->add_slots());
  }
  v1::Event event;
  ASSERT_TRUE(patch(party_, narrow, &event).ok());
  const Answers kept = {{"party@here.net", {{slot_at(1), Answer::kYes}}}};
  EXPECT_EQ(stored().answers, kept);
  ASSERT_EQ(event.tally_size(), 2);
  EXPECT_EQ(event.tally(0).yes(), 1);
  EXPECT_EQ(event.tally(1).pending(), 4);

  // Slot 2 back: pending for everyone, its earlier answers stay in the past.
  v1::UpdateEventRequest extend;
  for (const Slot& slot : {slot_at(1), slot_at(2), slot_at(3)}) {
    slot_to_proto(slot, *extend.mutable_slots()->add_slots());
  }
  ASSERT_TRUE(patch(party_, extend, &event).ok());
  ASSERT_EQ(event.tally_size(), 3);
  EXPECT_EQ(event.tally(1).pending(), 4);
  EXPECT_EQ(event.tally(1).no() + event.tally(1).maybe(), 0);
  EXPECT_EQ(stored().answers, kept);
}

// Answers as each kind of caller sees them, with and without hide_answers:
// the tally and the best slot stay visible to all.
TEST_F(AnswersTest, HiddenAnswersShowEachPartyOnlyItsOwnRowButEveryoneTheTally) {
  EventRecord& record = stores_.state.events.at(event_id_);
  record.answers = {
      {"owner@here.net", {{slot_at(2), Answer::kMaybe}}},
      {"party@here.net", {{slot_at(1), Answer::kYes}, {slot_at(3), Answer::kNo}}},
      {"guest@here.net", {{slot_at(2), Answer::kYes}}},
  };
  const auto rows_seen = [&](const Metadata& caller) {
    std::vector<std::string> parties;
    const v1::Event event = get(caller);
    for (const auto& row : event.answers()) {
      parties.push_back(row.party());
    }
    return parties;
  };
  const std::vector<std::string> all = {"owner@here.net", "party@here.net", "guest@here.net"};
  for (const Metadata& caller : {owner_, party_, party_token_, staff_, staff_party_}) {
    EXPECT_EQ(rows_seen(caller), all) << "answers are open";
  }
  record.hide_answers = true;
  for (const Metadata& caller : {owner_, owner_token_, staff_, staff_party_}) {
    EXPECT_EQ(rows_seen(caller), all) << "the creator and staff see every row";
  }
  EXPECT_EQ(rows_seen(party_), std::vector<std::string>{"party@here.net"});
  EXPECT_EQ(rows_seen(party_token_), std::vector<std::string>{"party@here.net"});

  const v1::Event seen = get(party_);
  ASSERT_EQ(seen.answers_size(), 1);
  EXPECT_EQ(std::vector<int>(seen.answers(0).answers().begin(), seen.answers(0).answers().end()),
            (std::vector<int>{v1::ANSWER_YES, v1::ANSWER_UNSPECIFIED, v1::ANSWER_NO}));
  ASSERT_EQ(seen.tally_size(), 3);
  EXPECT_EQ(seen.tally(1).yes(), 1);
  EXPECT_EQ(seen.tally(1).maybe(), 1);
  EXPECT_EQ(seen.tally(1).pending(), 2);
  ASSERT_TRUE(seen.has_best_slot());
  EXPECT_EQ(slot_from_proto(seen.best_slot()).value(), slot_at(2));

  v1::ListEventsResponse listed;
  ASSERT_TRUE(call(&EventServiceImpl::ListEvents, party_, v1::ListEventsRequest(), listed).ok());
  ASSERT_EQ(listed.events_size(), 1);
  EXPECT_EQ(listed.events(0).answers_size(), 1) << "a list shows what the detail shows";
}

TEST_F(AnswersTest, AStaleVersionCarriesTheEventAsTheCallerSeesIt) {
  EventRecord& record = stores_.state.events.at(event_id_);
  record.hide_answers = true;
  record.answers = {{"guest@here.net", {{slot_at(2), Answer::kYes}}}};
  v1::UpdateEventRequest request;
  request.set_title("Dinner");
  request.set_expected_version(7);
  const absl::Status status = patch(party_, request);
  ASSERT_EQ(status.code(), Code::kFailedPrecondition);
  const auto payload = status.GetPayload("type.googleapis.com/calndro.events.v1.Event");
  ASSERT_TRUE(payload.has_value());
  v1::Event current;
  ASSERT_TRUE(current.ParseFromString(std::string(*payload)));
  EXPECT_EQ(current.answers_size(), 0) << "the guest's row is hidden from this party";
  EXPECT_EQ(current.tally(1).yes(), 1);
}

TEST(AnswerAccess, EachPartyForItselfAndLateOnlyTheCreatorAndStaff) {
  const Relation all[] = {Relation::kStaff,
                          Relation::kCreator,
                          Relation::kParty,
                          Relation::kNonParty,
                          Relation::kCreatorToken,
                          Relation::kTokenForThisEvent,
                          Relation::kTokenForOtherEvent};
  for (const Relation relation : all) {
    const bool answers = relation != Relation::kNonParty && relation != Relation::kTokenForOtherEvent;
    EXPECT_EQ(decide(Action::kAnswer, relation) == Decision::kAllow, answers) << static_cast<int>(relation);
    const bool decides =
        relation == Relation::kStaff || relation == Relation::kCreator || relation == Relation::kCreatorToken;
    for (const Action action : {Action::kAnswerLate, Action::kSeeHiddenAnswers, Action::kSetDeadline}) {
      EXPECT_EQ(decide(action, relation) == Decision::kAllow, decides) << static_cast<int>(relation);
    }
  }
}

TEST_F(AnswersTest, APartyAnswersForItselfAndTheEventShowsTheTallyAndTheBestSlot) {
  v1::Event event;
  // Given out of slot order: stored and logged in slot order.
  ASSERT_TRUE(answer(party_, {{slot_at(3), v1::ANSWER_NO}, {slot_at(1), v1::ANSWER_YES}}, &event).ok());
  EXPECT_EQ(event.version(), 2);
  const Answers expected = {{"party@here.net", {{slot_at(1), Answer::kYes}, {slot_at(3), Answer::kNo}}}};
  EXPECT_EQ(stored().answers, expected);
  ASSERT_EQ(event.answers_size(), 1);
  EXPECT_EQ(event.answers(0).party(), "party@here.net");
  EXPECT_EQ(std::vector<int>(event.answers(0).answers().begin(), event.answers(0).answers().end()),
            (std::vector<int>{v1::ANSWER_YES, v1::ANSWER_UNSPECIFIED, v1::ANSWER_NO}));
  EXPECT_EQ(event.tally(0).yes(), 1);
  EXPECT_EQ(event.tally(0).pending(), 3);
  EXPECT_EQ(event.tally(2).no(), 1);
  EXPECT_EQ(slot_from_proto(event.best_slot()).value(), slot_at(1));

  const LogEntryRecord entry = log().back();
  EXPECT_EQ(entry.occurrence, Occurrence::kAnswer);
  EXPECT_EQ(entry.effector, "party@here.net");
  EXPECT_EQ(entry.slots, stored().slots);
  EXPECT_EQ(entry.data, nlohmann::json({{"answers",
                                         {{{"slot", slot_json(slot_at(1))}, {"answer", "yes"}},
                                          {{"slot", slot_json(slot_at(3))}, {"answer", "no"}}}}}));

  // The guest's maybe on slot 2 and the creator's on 2 and 3: slot 2 wins
  // on yes or maybe (2 against slot 1's 1).
  ASSERT_TRUE(answer(owner_, {{slot_at(2), v1::ANSWER_YES}, {slot_at(3), v1::ANSWER_MAYBE}}, &event).ok());
  ASSERT_TRUE(answer(staff_party_, {{slot_at(2), v1::ANSWER_MAYBE}}, &event).ok());
  EXPECT_EQ(slot_from_proto(event.best_slot()).value(), slot_at(2));
  EXPECT_EQ(event.version(), 4);
  EXPECT_EQ(event.answers_size(), 3);
  EXPECT_EQ(event.answers(0).party(), "owner@here.net") << "rows in the order of the parties";
}

TEST_F(AnswersTest, ATokenHolderAnswersAsTheTokensPartyAndTheEntryNamesTheTokensFingerprint) {
  ASSERT_TRUE(answer(party_token_, {{slot_at(2), v1::ANSWER_MAYBE}}).ok());
  EXPECT_EQ(stored().answers.at("party@here.net"), (std::vector<SlotAnswer>{{slot_at(2), Answer::kMaybe}}));
  EXPECT_EQ(log().back().effector, "party@here.net");
  EXPECT_EQ(log().back().data["token"], "fp-0123");
  ASSERT_TRUE(answer(owner_token_, {{slot_at(1), v1::ANSWER_NO}}).ok());
  EXPECT_EQ(stored().answers.at("owner@here.net"), (std::vector<SlotAnswer>{{slot_at(1), Answer::kNo}}));
}

TEST_F(AnswersTest, AnAnswerReplacesTheCallersWholeSetAndTouchesNoOneElses) {
  ASSERT_TRUE(answer(owner_, {{slot_at(1), v1::ANSWER_YES}}).ok());
  ASSERT_TRUE(answer(party_, {{slot_at(1), v1::ANSWER_YES}, {slot_at(2), v1::ANSWER_YES}}).ok());
  ASSERT_TRUE(answer(party_, {{slot_at(2), v1::ANSWER_NO}}).ok());
  EXPECT_EQ(stored().answers.at("party@here.net"), (std::vector<SlotAnswer>{{slot_at(2), Answer::kNo}}));
  EXPECT_EQ(stored().answers.at("owner@here.net"), (std::vector<SlotAnswer>{{slot_at(1), Answer::kYes}}));
  // None at all: the party is pending everywhere again.
  v1::Event event;
  ASSERT_TRUE(answer(party_, {}, &event).ok());
  EXPECT_EQ(stored().answers.count("party@here.net"), 0u);
  EXPECT_EQ(log().back().data, nlohmann::json({{"answers", nlohmann::json::array()}}));
  EXPECT_EQ(event.tally(1).pending(), 4);
  EXPECT_EQ(event.version(), 5);
}

TEST_F(AnswersTest, AnAnswerThatChangesNothingKeepsTheVersionAndLogsNothing) {
  v1::Event event;
  ASSERT_TRUE(answer(party_, {}, &event).ok());
  EXPECT_EQ(event.version(), 1);
  ASSERT_TRUE(answer(party_, {{slot_at(1), v1::ANSWER_YES}, {slot_at(2), v1::ANSWER_NO}}).ok());
  const std::size_t entries = log().size();
  ASSERT_TRUE(answer(party_token_, {{slot_at(2), v1::ANSWER_NO}, {slot_at(1), v1::ANSWER_YES}}, &event).ok());
  EXPECT_EQ(event.version(), 2);
  EXPECT_EQ(event.answers_size(), 1) << "the answer is the event as it is";
  EXPECT_EQ(log().size(), entries);
  EXPECT_EQ(stored().version, 2);
}

TEST_F(AnswersTest, OnlyPartiesAnswerAndEachOnlyForItself) {
  const std::size_t entries = log().size();
  EXPECT_EQ(answer(staff_, {{slot_at(1), v1::ANSWER_YES}}).code(), Code::kPermissionDenied);
  EXPECT_EQ(answer(stranger_, {{slot_at(1), v1::ANSWER_YES}}).code(), Code::kPermissionDenied);
  EXPECT_EQ(answer(other_event_token_, {{slot_at(1), v1::ANSWER_YES}}).code(), Code::kPermissionDenied);
  EXPECT_EQ(answer({}, {{slot_at(1), v1::ANSWER_YES}}).code(), Code::kUnauthenticated);
  EXPECT_TRUE(answer(staff_party_, {{slot_at(1), v1::ANSWER_YES}}).ok()) << "staff who are a party answer";
  EXPECT_EQ(log().size(), entries + 1);

  v1::AnswerSlotsRequest missing;
  missing.set_id(event_id_ + 500);
  EXPECT_EQ(answer_request(party_, missing).code(), Code::kNotFound);
  stores_.state.events.at(event_id_).deleted = true;
  EXPECT_EQ(answer(party_, {}).code(), Code::kNotFound);
  EXPECT_EQ(answer(staff_party_, {}).code(), Code::kNotFound);
}

TEST_F(AnswersTest, BadAnswersAreRefusedNamingTheFieldAndChangeNothing) {
  ASSERT_TRUE(answer(party_, {{slot_at(1), v1::ANSWER_YES}}).ok());
  const EventRecord before = stored();
  const std::size_t entries = log().size();
  const std::vector<std::vector<std::pair<Slot, v1::Answer>>> bad = {
      {{slot_at(9), v1::ANSWER_YES}},                               // not a slot of the event
      {{slot_at(1), v1::ANSWER_YES}, {slot_at(1), v1::ANSWER_NO}},  // twice
      {{slot_at(2), v1::ANSWER_UNSPECIFIED}},                       // no answer
      {{slot_at(2), static_cast<v1::Answer>(7)}},                   // not an answer
      {{{slot_at(2).begin, Micros(0)}, v1::ANSWER_YES}},            // not a slot at all
  };
  for (const auto& answers : bad) {
    const absl::Status status = answer(party_, answers);
    EXPECT_EQ(status.code(), Code::kInvalidArgument) << status;
    EXPECT_EQ(violated_fields(status), std::vector<std::string>{"answers"}) << status;
  }
  v1::AnswerSlotsRequest without_slot;
  without_slot.set_id(event_id_);
  without_slot.add_answers()->set_answer(v1::ANSWER_YES);
  EXPECT_EQ(violated_fields(answer_request(party_, without_slot)), std::vector<std::string>{"answers"});
  v1::AnswerSlotsRequest too_many;
  too_many.set_id(event_id_);
  for (int i = 0; i < 31; ++i) {
    slot_to_proto(slot_at(1), *too_many.add_answers()->mutable_slot());
  }
  EXPECT_EQ(violated_fields(answer_request(party_, too_many)), std::vector<std::string>{"answers"});
  EXPECT_EQ(stored().answers, before.answers);
  EXPECT_EQ(stored().version, before.version);
  EXPECT_EQ(log().size(), entries);

  const absl::Status twice = answer(party_, {{slot_at(2), v1::ANSWER_YES}, {slot_at(2), v1::ANSWER_YES}});
  ASSERT_EQ(decode_details(twice).violations.size(), 1u);
  EXPECT_EQ(decode_details(twice).violations[0].description,
            "Answer 2: slot: the same slot as answer 1 (each slot at most once).");
}

TEST_F(AnswersTest, AStaleVersionChangesNothingAndCarriesTheCurrentEvent) {
  const absl::Status status = answer(party_, {{slot_at(1), v1::ANSWER_YES}}, nullptr, 9);
  ASSERT_EQ(status.code(), Code::kFailedPrecondition);
  EXPECT_TRUE(status.GetPayload("type.googleapis.com/calndro.events.v1.Event").has_value());
  EXPECT_TRUE(stored().answers.empty());
  EXPECT_TRUE(answer(party_, {{slot_at(1), v1::ANSWER_YES}}, nullptr, 1).ok());
}

TEST_F(AnswersTest, AnAgreedEventTakesNoAnswersFromAnyone) {
  v1::AgreeEventRequest agree;
  agree.set_id(event_id_);
  slot_to_proto(slot_at(1), *agree.mutable_slot());
  v1::Event agreed;
  ASSERT_TRUE(call(&EventServiceImpl::AgreeEvent, owner_, agree, agreed).ok());
  const std::size_t entries = log().size();
  for (const Metadata& caller : {owner_, party_, party_token_, staff_party_}) {
    const absl::Status status = answer(caller, {{slot_at(1), v1::ANSWER_YES}});
    EXPECT_EQ(status.code(), Code::kFailedPrecondition);
    EXPECT_EQ(decode_details(status).reason, kEventAgreedReason);
  }
  EXPECT_EQ(log().size(), entries);
  EXPECT_TRUE(stored().answers.empty());
}

TEST_F(AnswersTest, AfterTheDeadlineOnlyTheCreatorAndStaffAnswer) {
  set_deadline(in_hours(2));
  ASSERT_TRUE(answer(party_, {{slot_at(1), v1::ANSWER_YES}}).ok()) << "before the deadline";
  clock_.advance(std::chrono::hours(2));
  for (const Metadata& caller : {party_, party_token_}) {
    const absl::Status status = answer(caller, {{slot_at(2), v1::ANSWER_YES}});
    EXPECT_EQ(status.code(), Code::kFailedPrecondition);
    EXPECT_EQ(decode_details(status).reason, kAnswersClosedReason);
    EXPECT_EQ(status.message(), "Answers closed at " + format_instant(in_hours(0)));
  }
  EXPECT_EQ(stored().answers.at("party@here.net"), (std::vector<SlotAnswer>{{slot_at(1), Answer::kYes}}));
  EXPECT_TRUE(answer(owner_, {{slot_at(1), v1::ANSWER_NO}}).ok());
  EXPECT_TRUE(answer(owner_token_, {{slot_at(2), v1::ANSWER_NO}}).ok());
  EXPECT_TRUE(answer(staff_party_, {{slot_at(3), v1::ANSWER_MAYBE}}).ok());
  EXPECT_EQ(answer(staff_, {{slot_at(3), v1::ANSWER_MAYBE}}).code(), Code::kPermissionDenied);

  // A later deadline opens answers again; clearing it too.
  set_deadline(in_hours(1));
  EXPECT_TRUE(answer(party_token_, {{slot_at(2), v1::ANSWER_YES}}).ok());
  clock_.advance(std::chrono::hours(1));
  EXPECT_EQ(answer(party_, {}).code(), Code::kFailedPrecondition);
  v1::UpdateEventRequest clear;
  clear.mutable_respond_by();
  ASSERT_TRUE(patch(staff_, clear).ok());
  EXPECT_TRUE(answer(party_, {}).ok());
}

TEST_F(AnswersTest, HiddenAnswersAreLoggedAsHiddenAndAnsweredWithTheCallersOwnRow) {
  v1::CreateEventRequest request = base_request();
  request.set_hide_answers(true);
  event_id_ = create(request).id();
  add_email_token(kPartyToken, event_id_, "party@here.net");
  ASSERT_TRUE(answer(owner_, {{slot_at(1), v1::ANSWER_YES}}).ok());
  v1::Event event;
  ASSERT_TRUE(answer(party_token_, {{slot_at(1), v1::ANSWER_NO}}, &event).ok());
  EXPECT_EQ(log().back().data, nlohmann::json({{"hidden", true}, {"token", "fp-0123"}}));
  ASSERT_EQ(event.answers_size(), 1);
  EXPECT_EQ(event.answers(0).party(), "party@here.net");
  EXPECT_EQ(event.tally(0).yes(), 1);
  EXPECT_EQ(event.tally(0).no(), 1);
  ASSERT_TRUE(answer(owner_, {{slot_at(2), v1::ANSWER_YES}}, &event).ok());
  EXPECT_EQ(event.answers_size(), 2) << "the creator sees every row";
}

}  // namespace
}  // namespace calndro::events
