// Direct gRPC clients of the event service, with credentials in metadata:
// the service enforces SPEC §2 on its own, without the gateway.
#include <google/protobuf/util/time_util.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/client_unary_call.h>
#include <grpcpp/impl/codegen/sync_stream.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "calndro/events/v1/events.grpc.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "support/calendar.h"
#include "support/reflection.h"
#include "support/stack.h"

using namespace calndro::testing;
namespace ev1 = calndro::events::v1;
using google::protobuf::util::TimeUtil;

namespace {

std::string code_name(grpc::StatusCode c) {
  static const char* names[] = {
      "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
      "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
      "DATA_LOSS", "UNAUTHENTICATED"};
  int i = static_cast<int>(c);
  return i >= 0 && i <= 16 ? names[i] : std::to_string(i);
}

std::string describe(const grpc::Status& s) {
  return code_name(s.error_code()) + ": " + s.error_message();
}

calndro::common::v1::TimeSlot make_slot(const std::string& begin, int64_t seconds) {
  calndro::common::v1::TimeSlot s;
  EXPECT_TRUE(TimeUtil::FromString(begin, s.mutable_begin())) << begin;
  *s.mutable_duration() = TimeUtil::SecondsToDuration(seconds);
  return s;
}

// Field violations of a google.rpc.BadRequest in the status details.
std::vector<std::pair<std::string, std::string>> violations(const grpc::Status& s) {
  std::vector<std::pair<std::string, std::string>> out;
  google::rpc::Status st;
  if (s.error_details().empty() || !st.ParseFromString(s.error_details())) {
    return out;
  }
  for (const auto& any : st.details()) {
    google::rpc::BadRequest br;
    if (any.UnpackTo(&br)) {
      for (const auto& v : br.field_violations()) {
        out.emplace_back(v.field(), v.description());
      }
    }
  }
  return out;
}

class GrpcDirect : public StackTest {
 protected:
  void prepare() override {
    alice_ = stack().create_user(unique_email("galice"), "alice-Pass-1");
    bob_ = stack().create_user(unique_email("gbob"), "bob-Pass-1");
    stub_ = ev1::EventService::NewStub(stack().events_channel());
  }

  // A context with a deadline and optional authorization metadata.
  std::unique_ptr<grpc::ClientContext> ctx(const std::string& authorization = "") {
    auto c = std::make_unique<grpc::ClientContext>();
    c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(15));
    if (!authorization.empty()) {
      c->AddMetadata("authorization", authorization);
    }
    return c;
  }
  std::string as(const User& u) { return basic_auth(u.email, u.password); }

  ev1::Event create_as(const User& u, ev1::CreateEventRequest req) {
    ev1::Event out;
    grpc::Status s = stub_->CreateEvent(ctx(as(u)).get(), req, &out);
    EXPECT_TRUE(s.ok()) << describe(s);
    return out;
  }
  ev1::CreateEventRequest simple_request(const User& u) {
    ev1::CreateEventRequest req;
    req.set_title("grpc plan");
    req.add_parties(u.email);
    req.add_parties(unique_email("gguest"));
    *req.add_slots() = make_slot("2030-05-01T10:00:00Z", 3600);
    *req.add_slots() = make_slot("2030-05-02T10:00:00Z", 1800);
    return req;
  }
  // A notify of `event`'s guest on all its slots, under a fresh request id.
  static ev1::NotifyPartiesRequest keyed_notify(const ev1::Event& event) {
    ev1::NotifyPartiesRequest req;
    req.set_id(event.id());
    req.add_parties(event.parties(1));
    *req.mutable_slots() = event.slots();
    req.set_request_id("notify-" + unique_email("k"));
    return req;
  }
  size_t log_size(const User& u, int64_t id) {
    ev1::GetEventLogRequest req;
    req.set_id(id);
    req.set_page_size(1000);
    ev1::EventLog log;
    grpc::Status s = stub_->GetEventLog(ctx(as(u)).get(), req, &log);
    EXPECT_TRUE(s.ok()) << describe(s);
    return log.entries_size();
  }

  User alice_, bob_;
  std::unique_ptr<ev1::EventService::Stub> stub_;
};

TEST_F(GrpcDirect, CreateAndGetWithBasicMetadata) {
  ev1::Event created = create_as(alice_, simple_request(alice_));
  ASSERT_GT(created.id(), 0);
  EXPECT_EQ(created.title(), "grpc plan");
  ASSERT_EQ(created.parties_size(), 2);
  EXPECT_EQ(created.parties(0), alice_.email);
  ASSERT_EQ(created.slots_size(), 2);
  EXPECT_EQ(TimeUtil::ToString(created.slots(0).begin()), "2030-05-01T10:00:00Z");
  EXPECT_EQ(created.slots(0).duration().seconds(), 3600);

  ev1::GetEventRequest get;
  get.set_id(created.id());
  ev1::Event got;
  grpc::Status s = stub_->GetEvent(ctx(as(alice_)).get(), get, &got);
  ASSERT_TRUE(s.ok()) << describe(s);
  EXPECT_EQ(got.SerializeAsString(), created.SerializeAsString());

  ev1::GetEventLogRequest lreq;
  lreq.set_id(created.id());
  ev1::EventLog log;
  s = stub_->GetEventLog(ctx(as(alice_)).get(), lreq, &log);
  ASSERT_TRUE(s.ok()) << describe(s);
  ASSERT_EQ(log.entries_size(), 2);
  EXPECT_EQ(log.entries(0).occurrence(), ev1::OCCURRENCE_UPDATE);
  EXPECT_EQ(log.entries(0).data().fields().at("opened").string_value(), "created");
  EXPECT_EQ(log.entries(1).occurrence(), ev1::OCCURRENCE_VIEW);
  EXPECT_EQ(log.entries(1).effector(), alice_.email);

  // The same event through the gateway: one store, one truth.
  httplib::Client http = stack().http();
  auto res =
      http.Get("/" + std::to_string(created.id()) + "/", httplib::Headers{{"Authorization", as(alice_)}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST_F(GrpcDirect, GetEventCalendarLogsAViewAndListsTheSlots) {
  ev1::Event created = create_as(alice_, simple_request(alice_));
  ev1::GetEventCalendarRequest req;
  req.set_id(created.id());
  // An older client's removed link_base_url (field 2): the URL is the
  // service's configured base all the same.
  req.GetReflection()->MutableUnknownFields(&req)->AddLengthDelimited(2, "http://evil.example");
  ev1::EventCalendar calendar;
  grpc::Status s = stub_->GetEventCalendar(ctx(as(alice_)).get(), req, &calendar);
  ASSERT_TRUE(s.ok()) << describe(s);
  EXPECT_EQ(calendar.file_name(), "calndro-" + std::to_string(created.id()) + ".ics");
  const nlohmann::json ics = summarize_ics(calendar.ics());
  EXPECT_EQ(ics["method"], "PUBLISH");
  ASSERT_EQ(ics["events"].size(), 2u);
  EXPECT_EQ(ics["events"][0]["status"], "TENTATIVE");
  EXPECT_EQ(ics["events"][0]["dtstart"], "2030-05-01T10:00:00Z");
  EXPECT_EQ(ics["events"][0]["url"], stack().link_base() + "/" + std::to_string(created.id()) + "/");
  EXPECT_EQ(calendar.ics().find("evil"), std::string::npos) << calendar.ics();
  EXPECT_EQ(log_size(alice_, created.id()), 2u);  // created, and this VIEW

  // As GetEvent: a non-party is denied, and logs nothing.
  s = stub_->GetEventCalendar(ctx(as(bob_)).get(), req, &calendar);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << describe(s);
  EXPECT_EQ(log_size(alice_, created.id()), 2u);
  req.set_id(created.id() + 1000000);
  s = stub_->GetEventCalendar(ctx(as(alice_)).get(), req, &calendar);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << describe(s);
}

TEST_F(GrpcDirect, ApiTokenInMetadata) {
  ev1::CreateApiTokenRequest treq;
  treq.set_username(alice_.email);
  treq.set_password(alice_.password);
  ev1::CreateApiTokenResponse tres;
  grpc::Status s = stub_->CreateApiToken(ctx().get(), treq, &tres);
  ASSERT_TRUE(s.ok()) << describe(s);
  ASSERT_FALSE(tres.token().empty());
  ev1::Event created = create_as(alice_, simple_request(alice_));
  ev1::ListEventsResponse list;
  s = stub_->ListEvents(ctx("Token " + tres.token()).get(), ev1::ListEventsRequest(), &list);
  ASSERT_TRUE(s.ok()) << describe(s);
  bool found = false;
  for (const auto& e : list.events()) {
    found = found || e.id() == created.id();
  }
  EXPECT_TRUE(found);
  treq.set_password("wrong");
  s = stub_->CreateApiToken(ctx().get(), treq, &tres);
  EXPECT_FALSE(s.ok());
}

TEST_F(GrpcDirect, NonPartyIsDeniedAndNothingIsLogged) {
  ev1::Event created = create_as(alice_, simple_request(alice_));
  size_t before = log_size(alice_, created.id());
  ev1::GetEventRequest get;
  get.set_id(created.id());
  ev1::Event out;
  grpc::Status s = stub_->GetEvent(ctx(as(bob_)).get(), get, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << describe(s);

  ev1::UpdateEventRequest upd;
  upd.set_id(created.id());
  upd.set_title("hijacked");
  s = stub_->UpdateEvent(ctx(as(bob_)).get(), upd, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << describe(s);

  ev1::GetEventLogRequest lreq;
  lreq.set_id(created.id());
  ev1::EventLog log;
  s = stub_->GetEventLog(ctx(as(bob_)).get(), lreq, &log);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << describe(s);

  // A party that is not staff may not delete.
  ev1::DeleteEventRequest del;
  del.set_id(created.id());
  google::protobuf::Empty empty;
  s = stub_->DeleteEvent(ctx(as(alice_)).get(), del, &empty);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << describe(s);

  EXPECT_EQ(log_size(alice_, created.id()), before);
  ev1::ListEventsResponse list;
  s = stub_->ListEvents(ctx(as(bob_)).get(), ev1::ListEventsRequest(), &list);
  ASSERT_TRUE(s.ok()) << describe(s);
  for (const auto& e : list.events()) {
    EXPECT_NE(e.id(), created.id());
  }
}

TEST_F(GrpcDirect, MissingEventIsNotFound) {
  ev1::GetEventRequest get;
  get.set_id(987654321);
  ev1::Event out;
  grpc::Status s = stub_->GetEvent(ctx(as(alice_)).get(), get, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << describe(s);
}

TEST_F(GrpcDirect, CallsWithoutValidCredentialsAreUnauthenticated) {
  ev1::Event created = create_as(alice_, simple_request(alice_));
  size_t before = log_size(alice_, created.id());
  for (const std::string& auth :
       {std::string(), basic_auth(alice_.email, "wrong"), std::string("Token 00000000000000000000"),
        std::string("Basic ???"), std::string("Digest x")}) {
    SCOPED_TRACE("authorization: '" + auth + "'");
    ev1::Event out;
    ev1::GetEventRequest get;
    get.set_id(created.id());
    grpc::Status s = stub_->GetEvent(ctx(auth).get(), get, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << describe(s);
    s = stub_->CreateEvent(ctx(auth).get(), simple_request(alice_), &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << describe(s);
    ev1::ListEventsResponse list;
    s = stub_->ListEvents(ctx(auth).get(), ev1::ListEventsRequest(), &list);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << describe(s);
    ev1::UpdateEventRequest upd;
    upd.set_id(created.id());
    upd.set_title("x");
    s = stub_->UpdateEvent(ctx(auth).get(), upd, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << describe(s);
    ev1::DeleteEventRequest del;
    del.set_id(created.id());
    google::protobuf::Empty empty;
    s = stub_->DeleteEvent(ctx(auth).get(), del, &empty);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << describe(s);
    ev1::GetEventLogRequest lreq;
    lreq.set_id(created.id());
    ev1::EventLog log;
    s = stub_->GetEventLog(ctx(auth).get(), lreq, &log);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << describe(s);
  }
  EXPECT_EQ(log_size(alice_, created.id()), before);
}

// A valid create request with one thing wrong, and the field that is wrong.
struct BadCreate {
  std::string what, field;
  ev1::CreateEventRequest req;
};

std::vector<BadCreate> bad_creates(const ev1::CreateEventRequest& valid) {
  const auto changed = [&valid](const std::function<void(ev1::CreateEventRequest&)>& change) {
    ev1::CreateEventRequest r = valid;
    change(r);
    return r;
  };
  return {
      {"zero duration", "slots",
       changed([](auto& r) { *r.mutable_slots(0)->mutable_duration() = TimeUtil::SecondsToDuration(0); })},
      {"negative duration", "slots",
       changed([](auto& r) { *r.mutable_slots(0)->mutable_duration() = TimeUtil::SecondsToDuration(-60); })},
      {"missing duration", "slots", changed([](auto& r) { r.mutable_slots(0)->clear_duration(); })},
      {"no parties", "parties", changed([](auto& r) { r.clear_parties(); })},
      {"bad email", "parties", changed([](auto& r) { r.add_parties("not-an-email"); })},
      {"long title", "title", changed([](auto& r) { r.set_title(std::string(257, 'x')); })},
      {"31 slots", "slots", changed([](auto& r) {
         r.clear_slots();
         for (int i = 0; i < 31; ++i) {
           *r.add_slots() = make_slot("2030-06-01T10:00:00Z", 60 * (i + 1));
         }
       })},
  };
}

TEST_F(GrpcDirect, InvalidArgumentCarriesBadRequestDetails) {
  const std::vector<BadCreate> cases = bad_creates(simple_request(alice_));
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    ev1::Event out;
    grpc::Status s = stub_->CreateEvent(ctx(as(alice_)).get(), c.req, &out);
    ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << describe(s);
    EXPECT_FALSE(s.error_message().empty());
    auto v = violations(s);
    ASSERT_FALSE(v.empty()) << "no google.rpc.BadRequest in grpc-status-details-bin";
    bool named = false;
    for (const auto& [field, description] : v) {
      named = named || field == c.field || field.rfind(c.field + ".", 0) == 0 ||
              field.rfind(c.field + "[", 0) == 0;
      EXPECT_FALSE(description.empty());
    }
    EXPECT_TRUE(named) << "no violation names '" << c.field << "'; first: " << v[0].first;
  }
  // None of them created anything.
  ev1::ListEventsResponse list;
  grpc::Status s = stub_->ListEvents(ctx(as(alice_)).get(), ev1::ListEventsRequest(), &list);
  ASSERT_TRUE(s.ok()) << describe(s);
  EXPECT_EQ(list.events_size(), 0);
}

// SPEC §3 versions over gRPC: a stale expected_version is
// FAILED_PRECONDITION with the current Event as a detail, and changes
// nothing; the change happens under the row lock, so of two writers
// expecting the same version exactly one wins.
TEST_F(GrpcDirect, AStaleExpectedVersionIsFailedPreconditionWithTheCurrentEvent) {
  ev1::Event created = create_as(alice_, simple_request(alice_));
  EXPECT_EQ(created.version(), 1);
  constexpr int kWriters = 6;
  std::vector<grpc::Status> statuses(kWriters);
  std::vector<std::thread> writers;
  for (int i = 0; i < kWriters; ++i) {
    writers.emplace_back([&, i] {
      ev1::UpdateEventRequest upd;
      upd.set_id(created.id());
      upd.set_title("writer " + std::to_string(i));
      upd.set_expected_version(1);
      ev1::Event out;
      statuses[i] = stub_->UpdateEvent(ctx(as(alice_)).get(), upd, &out);
    });
  }
  for (auto& writer : writers) {
    writer.join();
  }
  int won = 0;
  ev1::Event current;
  for (const grpc::Status& s : statuses) {
    if (s.ok()) {
      ++won;
      continue;
    }
    ASSERT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << describe(s);
    google::rpc::Status details;
    ASSERT_TRUE(details.ParseFromString(s.error_details()));
    ASSERT_EQ(details.details_size(), 1);
    ASSERT_TRUE(details.details(0).UnpackTo(&current));
    EXPECT_EQ(current.version(), 2);
  }
  EXPECT_EQ(won, 1);
  EXPECT_EQ(log_size(alice_, created.id()), 2u) << "the creation and the one update";

  ev1::NotifyPartiesRequest notify;
  notify.set_id(created.id());
  notify.add_parties(alice_.email);
  *notify.mutable_slots() = created.slots();
  notify.set_expected_version(1);
  ev1::NotifyPartiesResponse notified;
  grpc::Status s = stub_->NotifyParties(ctx(as(alice_)).get(), notify, &notified);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << describe(s);
  EXPECT_EQ(log_size(alice_, created.id()), 2u) << "refused writes logged something";
  ev1::GetEventRequest get;
  get.set_id(created.id());
  ev1::Event got;
  s = stub_->GetEvent(ctx(as(alice_)).get(), get, &got);
  ASSERT_TRUE(s.ok()) << describe(s);
  EXPECT_EQ(got.SerializeAsString(), current.SerializeAsString());
}

TEST_F(GrpcDirect, ReflectionListsAndDescribesTheService) {
  // ServerReflectionRequest { list_services = 7: "" }
  std::string listing = reflection_exchange(stack().events_channel(), string_field(7, ""));
  EXPECT_NE(listing.find("calndro.events.v1.EventService"), std::string::npos);
  EXPECT_NE(listing.find("grpc.health.v1.Health"), std::string::npos);
  EXPECT_NE(listing.find("grpc.reflection.v1alpha.ServerReflection"), std::string::npos);
  // ServerReflectionRequest { file_containing_symbol = 4: "..." }: the
  // response must be a file_descriptor_response (field 4), not an error (7).
  for (const std::string symbol : {"calndro.events.v1.EventService", "grpc.health.v1.Health"}) {
    std::string described = reflection_exchange(stack().events_channel(), string_field(4, symbol));
    EXPECT_NE(described.find(symbol.substr(symbol.rfind('.') + 1)), std::string::npos)
        << symbol << " cannot be described through reflection";
    EXPECT_EQ(described.find("not found"), std::string::npos) << symbol;
  }
}

TEST_F(GrpcDirect, HealthCheckIsServing) {
  auto health = grpc::health::v1::Health::NewStub(stack().events_channel());
  grpc::health::v1::HealthCheckRequest req;
  grpc::health::v1::HealthCheckResponse res;
  grpc::Status s = health->Check(ctx().get(), req, &res);
  ASSERT_TRUE(s.ok()) << describe(s);
  EXPECT_EQ(res.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

// Reads a listing in pages of 2, following next_page_token from the first
// page to the last: `rpc(request, &page)` fetches a page, `items(page)` are
// its entries. Returns the entries' ids in order; `pages` counts the pages.
template <typename Page, typename Request, typename Rpc, typename Items>
std::vector<int64_t> ids_over_pages(Request request, const Rpc& rpc, const Items& items, int& pages) {
  std::vector<int64_t> ids;
  request.set_page_size(2);
  pages = 0;
  do {
    Page page;
    const grpc::Status s = rpc(request, &page);
    EXPECT_TRUE(s.ok()) << describe(s);
    EXPECT_LE(items(page).size(), 2);
    for (const auto& item : items(page)) {
      ids.push_back(item.id());
    }
    request.set_page_token(page.next_page_token());
    if (++pages >= 10) {
      ADD_FAILURE() << "paging does not end";
      break;
    }
  } while (!request.page_token().empty());
  return ids;
}

// Paging over gRPC, as the gateway's ?limit= and ?after= use it: pages of
// page_size, next_page_token until the last page, bad values refused.
TEST_F(GrpcDirect, ListAndLogPageWithNextPageToken) {
  const User carol = stack().create_user(unique_email("gpager"), "carol-Pass-1");
  std::vector<int64_t> created;
  for (int i = 0; i < 5; ++i) {
    created.push_back(create_as(carol, simple_request(carol)).id());
  }
  for (int i = 0; i < 4; ++i) {  // the creation entry + 4 VIEW entries
    ev1::GetEventRequest get;
    get.set_id(created[0]);
    ev1::Event got;
    ASSERT_TRUE(stub_->GetEvent(ctx(as(carol)).get(), get, &got).ok());
  }

  int list_pages = 0;
  const std::vector<int64_t> listed = ids_over_pages<ev1::ListEventsResponse>(
      ev1::ListEventsRequest{},
      [&](const ev1::ListEventsRequest& req, ev1::ListEventsResponse* page) {
        return stub_->ListEvents(ctx(as(carol)).get(), req, page);
      },
      [](const ev1::ListEventsResponse& page) -> const auto& { return page.events(); }, list_pages);
  EXPECT_EQ(listed, created);
  EXPECT_EQ(list_pages, 3);

  ev1::GetEventLogRequest log_request;
  log_request.set_id(created[0]);
  int log_pages = 0;
  const std::vector<int64_t> entry_ids = ids_over_pages<ev1::EventLog>(
      log_request,
      [&](const ev1::GetEventLogRequest& req, ev1::EventLog* page) {
        return stub_->GetEventLog(ctx(as(carol)).get(), req, page);
      },
      [](const ev1::EventLog& page) -> const auto& { return page.entries(); }, log_pages);
  ASSERT_EQ(entry_ids.size(), 5u);
  EXPECT_EQ(log_pages, 3);
  EXPECT_TRUE(std::is_sorted(entry_ids.begin(), entry_ids.end()));
  EXPECT_EQ(log_size(carol, created[0]), 5u);

  for (const auto& [size, page_token] :
       std::vector<std::pair<int, std::string>>{{1001, ""}, {-1, ""}, {2, "not-a-cursor"}}) {
    ev1::ListEventsRequest req;
    req.set_page_size(size);
    req.set_page_token(page_token);
    ev1::ListEventsResponse page;
    grpc::Status s = stub_->ListEvents(ctx(as(carol)).get(), req, &page);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << size << " " << page_token << ": " << describe(s);
  }
}

// SPEC §3 "Idempotency" over gRPC: request_id, the x-idempotent-replayed
// response metadata, ALREADY_EXISTS with IDEMPOTENCY_KEY_REUSED.
TEST_F(GrpcDirect, ARequestIdMakesCreateIdempotent) {
  const auto replayed = [](const grpc::ClientContext& c) {
    const auto& initial = c.GetServerInitialMetadata();
    const auto found = initial.find("x-idempotent-replayed");
    return found != initial.end() && found->second == "true";
  };
  ev1::CreateEventRequest req = simple_request(alice_);
  req.set_request_id("grpc-key-" + unique_email("k"));
  ev1::Event first, again;
  auto c1 = ctx(as(alice_));
  ASSERT_TRUE(stub_->CreateEvent(c1.get(), req, &first).ok());
  EXPECT_FALSE(replayed(*c1));
  auto c2 = ctx(as(alice_));
  grpc::Status s = stub_->CreateEvent(c2.get(), req, &again);
  ASSERT_TRUE(s.ok()) << describe(s);
  EXPECT_TRUE(replayed(*c2));
  EXPECT_EQ(again.SerializeAsString(), first.SerializeAsString());
  EXPECT_EQ(log_size(alice_, first.id()), 1u) << "one creation entry, nothing for the replay";

  // The same key with another request.
  ev1::CreateEventRequest other = req;
  other.set_title("another plan");
  ev1::Event refused;
  auto c3 = ctx(as(alice_));
  s = stub_->CreateEvent(c3.get(), other, &refused);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS) << describe(s);
  EXPECT_FALSE(replayed(*c3));
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(s.error_details()));
  std::string reason;
  for (const auto& any : details.details()) {
    google::rpc::ErrorInfo info;
    if (any.UnpackTo(&info)) {
      reason = info.reason();
    }
  }
  EXPECT_EQ(reason, "IDEMPOTENCY_KEY_REUSED");

  // Another caller's key is another key.
  ev1::Event bobs;
  auto c4 = ctx(as(bob_));
  ev1::CreateEventRequest bob_req = req;
  bob_req.set_parties(0, bob_.email);
  ASSERT_TRUE(stub_->CreateEvent(c4.get(), bob_req, &bobs).ok());
  EXPECT_FALSE(replayed(*c4));
  EXPECT_NE(bobs.id(), first.id());
}

TEST_F(GrpcDirect, AMalformedRequestIdIsInvalidArgumentNamingIt) {
  for (const std::string& key : {std::string("with space"), std::string(256, 'k'), std::string("\x01")}) {
    ev1::CreateEventRequest req = simple_request(alice_);
    req.set_request_id(key);
    ev1::Event out;
    grpc::Status s = stub_->CreateEvent(ctx(as(alice_)).get(), req, &out);
    ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << describe(s);
    const auto found = violations(s);
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].first, "request_id");
  }
}

TEST_F(GrpcDirect, ARepeatedNotifyWithARequestIdWritesNoSecondEntry) {
  const ev1::Event event = create_as(alice_, simple_request(alice_));
  const ev1::NotifyPartiesRequest req = keyed_notify(event);
  ev1::NotifyPartiesResponse first, again;
  ASSERT_TRUE(stub_->NotifyParties(ctx(as(alice_)).get(), req, &first).ok());
  const size_t entries = log_size(alice_, event.id());
  auto c = ctx(as(alice_));
  grpc::Status s = stub_->NotifyParties(c.get(), req, &again);
  ASSERT_TRUE(s.ok()) << describe(s);
  EXPECT_EQ(c->GetServerInitialMetadata().count("x-idempotent-replayed"), 1u);
  EXPECT_EQ(again.SerializeAsString(), first.SerializeAsString());
  EXPECT_EQ(log_size(alice_, event.id()), entries);
  EXPECT_EQ(stack().db().scalar("SELECT count(*) FROM events.pending_notifications WHERE event_id = " +
                                std::to_string(event.id())),
            "1");
}

// SPEC §7 for a direct client too: a title with a control character, a
// line or paragraph separator or a bidirectional override or isolate is
// INVALID_ARGUMENT naming `title`, on CreateEvent and UpdateEvent.
TEST_F(GrpcDirect, TitlesWithControlsOrBidiOverridesAreInvalidArgument) {
  const ev1::Event event = create_as(alice_, simple_request(alice_));
  const size_t entries = log_size(alice_, event.id());
  for (const std::string title : {"a\x7F", "c1 \xC2\x85", "\xE2\x80\xA8",
                                  "\xE2\x80\xAE"
                                  "evil",
                                  "\xE2\x81\xA7"
                                  "x",
                                  "tab\t"}) {
    ev1::CreateEventRequest create = simple_request(alice_);
    create.set_title(title);
    ev1::Event created;
    const grpc::Status refused_create = stub_->CreateEvent(ctx(as(alice_)).get(), create, &created);
    ASSERT_EQ(refused_create.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << describe(refused_create);
    ASSERT_EQ(violations(refused_create).size(), 1u);
    EXPECT_EQ(violations(refused_create)[0].first, "title");

    ev1::UpdateEventRequest update;
    update.set_id(event.id());
    update.set_title(title);
    ev1::Event updated;
    const grpc::Status refused_update = stub_->UpdateEvent(ctx(as(alice_)).get(), update, &updated);
    ASSERT_EQ(refused_update.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << describe(refused_update);
    EXPECT_EQ(violations(refused_update).at(0).first, "title");
  }
  EXPECT_EQ(log_size(alice_, event.id()), entries);

  // Bytes that are not UTF-8 never reach the service: protobuf refuses to
  // parse such a request (gRPC's own status; docs/ARCHITECTURE.md).
  const std::string created_by_alice =
      "SELECT count(*) FROM events.events WHERE creator = '" + alice_.email + "'";
  const std::string before = stack().db().scalar(created_by_alice);
  ev1::CreateEventRequest broken = simple_request(alice_);
  broken.set_title("caf\xC3");
  ev1::Event created;
  const grpc::Status refused = stub_->CreateEvent(ctx(as(alice_)).get(), broken, &created);
  EXPECT_FALSE(refused.ok()) << describe(refused);
  EXPECT_EQ(stack().db().scalar(created_by_alice), before);
  EXPECT_TRUE(stub_->CreateEvent(ctx(as(alice_)).get(), simple_request(alice_), &created).ok())
      << "the service still serves";
}

// A stored answer goes only to a caller who may still make the call: once
// the event is deleted, a repeat of its notify is NOT_FOUND, not a replay.
TEST_F(GrpcDirect, AReplayOnADeletedEventIsNotFound) {
  const User staff = stack().create_user(unique_email("gstaff"), "staff-Pass-1", /*staff=*/true);
  const ev1::Event event = create_as(alice_, simple_request(alice_));
  const ev1::NotifyPartiesRequest req = keyed_notify(event);
  ev1::NotifyPartiesResponse first, again;
  ASSERT_TRUE(stub_->NotifyParties(ctx(as(alice_)).get(), req, &first).ok());
  ev1::DeleteEventRequest remove;
  remove.set_id(event.id());
  google::protobuf::Empty empty;
  ASSERT_TRUE(stub_->DeleteEvent(ctx(as(staff)).get(), remove, &empty).ok());
  auto c = ctx(as(alice_));
  const grpc::Status s = stub_->NotifyParties(c.get(), req, &again);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << describe(s);
  EXPECT_EQ(c->GetServerInitialMetadata().count("x-idempotent-replayed"), 0u);
  EXPECT_EQ(again.parties_size(), 0);
}

}  // namespace
