// End to end inside one process: the gateway's HTTP server on 127.0.0.1:0
// in front of a fake EventService on 127.0.0.1:0.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <grpcpp/grpcpp.h>

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/crypto/crypto.h"
#include "common/grpc/rich_status.h"
#include "gateway/api/credentials.h"
#include "gateway/api/event_client.h"
#include "gateway/api/request_text.h"
#include "gateway/api/routes.h"
#include "gateway/server/http_server.h"
#include "serving_gateway.h"
#include "support/raw_http.h"

#include "support/cases.h"

namespace calndro::gateway {
namespace {

using nlohmann::json;
using testing::connect_from;
using testing::count_of;
using testing::raw_http;

class FakeEventService final : public v1::EventService::Service {
 public:
  struct Call {
    std::string method;
    std::map<std::string, std::string> metadata;
    std::string request;  // serialized request message
  };

  std::vector<Call> calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  void fail_with(grpc::Status status) {
    std::lock_guard lock(mutex_);
    status_ = std::move(status);
  }
  // Every call takes this long before it answers.
  void delay_answers(std::chrono::milliseconds delay) {
    std::lock_guard lock(mutex_);
    delay_ = delay;
  }
  void set_next_page_token(std::string token) {
    std::lock_guard lock(mutex_);
    next_page_token_ = std::move(token);
  }

  static v1::Event event(int64_t id) {
    v1::Event event;
    event.set_id(id);
    event.set_title("cybes");
    event.add_parties("you@here.net");
    auto* slot = event.add_slots();
    slot->mutable_begin()->set_seconds(1667265082);
    slot->mutable_begin()->set_nanos(20'000'000);
    slot->mutable_duration()->set_seconds(600);
    return event;
  }

  grpc::Status ListEvents(grpc::ServerContext* context, const v1::ListEventsRequest* request,
                          v1::ListEventsResponse* response) override {
    *response->add_events() = event(1);
    *response->add_events() = event(2);
    response->set_next_page_token(next_page_token());
    return record(context, "ListEvents", *request);
  }
  grpc::Status CreateEvent(grpc::ServerContext* context, const v1::CreateEventRequest* request,
                           v1::Event* response) override {
    *response = event(9);
    return record(context, "CreateEvent", *request);
  }
  grpc::Status GetEvent(grpc::ServerContext* context, const v1::GetEventRequest* request,
                        v1::Event* response) override {
    *response = event(request->id());
    return record(context, "GetEvent", *request);
  }
  grpc::Status UpdateEvent(grpc::ServerContext* context, const v1::UpdateEventRequest* request,
                           v1::Event* response) override {
    *response = event(request->id());
    return record(context, "UpdateEvent", *request);
  }
  grpc::Status DeleteEvent(grpc::ServerContext* context, const v1::DeleteEventRequest* request,
                           google::protobuf::Empty*) override {
    return record(context, "DeleteEvent", *request);
  }
  grpc::Status NotifyParties(grpc::ServerContext* context, const v1::NotifyPartiesRequest* request,
                             v1::NotifyPartiesResponse* response) override {
    *response->mutable_parties() = request->parties();
    *response->mutable_slots() = request->slots();
    response->set_sender("you@here.net");
    return record(context, "NotifyParties", *request);
  }
  grpc::Status AgreeEvent(grpc::ServerContext* context, const v1::AgreeEventRequest* request,
                          v1::Event* response) override {
    *response = event(request->id());
    return record(context, "AgreeEvent", *request);
  }
  grpc::Status ReopenEvent(grpc::ServerContext* context, const v1::ReopenEventRequest* request,
                           v1::Event* response) override {
    *response = event(request->id());
    return record(context, "ReopenEvent", *request);
  }
  grpc::Status GetEventCalendar(grpc::ServerContext* context, const v1::GetEventCalendarRequest* request,
                                v1::EventCalendar* response) override {
    response->set_ics("BEGIN:VCALENDAR\r\nMETHOD:PUBLISH\r\nSUMMARY:Caf\xc3\xa9\r\nEND:VCALENDAR\r\n");
    response->set_file_name(request->id() == 8 ? "evil\"\r\nX-Injected: 1.ics" : "calndro-7.ics");
    return record(context, "GetEventCalendar", *request);
  }
  grpc::Status GetEventLog(grpc::ServerContext* context, const v1::GetEventLogRequest* request,
                           v1::EventLog* response) override {
    response->set_event_id(request->id());
    response->add_parties("you@here.net");
    auto* entry = response->add_entries();
    entry->set_id(1);
    entry->mutable_when()->set_seconds(1615473240);
    entry->set_occurrence(v1::OCCURRENCE_UPDATE);
    entry->set_effector("you@here.net");
    (*entry->mutable_data()->mutable_fields())["opened"].set_string_value("created");
    response->set_next_page_token(next_page_token());
    return record(context, "GetEventLog", *request);
  }
  grpc::Status CreateApiToken(grpc::ServerContext* context, const v1::CreateApiTokenRequest* request,
                              v1::CreateApiTokenResponse* response) override {
    response->set_token("k3y");
    return record(context, "CreateApiToken", *request);
  }

 private:
  std::string next_page_token() {
    std::lock_guard lock(mutex_);
    return next_page_token_;
  }

  grpc::Status record(grpc::ServerContext* context, const char* method,
                      const google::protobuf::Message& request) {
    Call call;
    call.method = method;
    for (const auto& [key, value] : context->client_metadata()) {
      call.metadata[std::string(key.data(), key.size())] = std::string(value.data(), value.size());
    }
    call.request = request.SerializeAsString();
    std::chrono::milliseconds delay;
    {
      std::lock_guard lock(mutex_);
      calls_.push_back(std::move(call));
      delay = delay_;
    }
    std::this_thread::sleep_for(delay);
    std::lock_guard lock(mutex_);
    return status_;
  }

  std::mutex mutex_;
  std::vector<Call> calls_;
  grpc::Status status_ = grpc::Status::OK;
  std::string next_page_token_;
  std::chrono::milliseconds delay_{0};
};

class GatewayServerTest : public ::testing::Test {
 protected:
  static constexpr const char* kInternalToken = "gateway-test-internal-credential";

  void SetUp() override { start(""); }

  static HttpServerOptions small_server() {
    HttpServerOptions options;
    options.threads = 4;
    return options;
  }

  void start(const std::string& public_base_url, bool service_up = true,
             HttpServerOptions server_options = small_server(), GatewayOptions gateway_options = {}) {
    stop();
    init_crypto();
    std::string events_address = "127.0.0.1:1";  // nothing listens there
    if (service_up) {
      int grpc_port = 0;
      grpc_server_ = serve_on_a_free_port(service_, grpc_port, service_max_metadata_);
      ASSERT_NE(grpc_server_, nullptr);
      ASSERT_GT(grpc_port, 0);
      events_address = "127.0.0.1:" + std::to_string(grpc_port);
    }
    client_ = EventClient::connect(events_address, std::chrono::milliseconds(3000), kInternalToken);
    gateway_options.public_base_url = public_base_url;
    if (gateway_options.allowed_hosts.empty()) {
      gateway_options.allowed_hosts = "calndro.test,h";
    }
    gateway_ = std::make_unique<ServingGateway>(*client_, gateway_options, server_options);
    ASSERT_TRUE(gateway_->serving());
    port_ = gateway_->port();
  }

  void stop() {
    gateway_.reset();
    client_.reset();
    if (grpc_server_) {
      grpc_server_->Shutdown();
      grpc_server_.reset();
    }
  }

  void TearDown() override { stop(); }

  // A gateway of 4 workers that takes at most `per_address` connections
  // from one address, `lingering` of them waiting or reading a head.
  void start_with_cap(std::size_t per_address, std::size_t lingering = 16) {
    HttpServerOptions options = small_server();
    options.per_address = {.per_address = per_address, .lingering_per_address = lingering};
    start("", true, options);
  }

  // Whether `res` is an answer with `status`; a failure shows what came instead.
  static ::testing::AssertionResult answered_with(const httplib::Result& res, int status) {
    if (!res) {
      return ::testing::AssertionFailure() << "no answer: " << httplib::to_string(res.error());
    }
    if (res->status != status) {
      return ::testing::AssertionFailure() << "status " << res->status << ": " << res->body;
    }
    return ::testing::AssertionSuccess();
  }

  // Opens `count` connections from 127.0.0.1, each sending `first_bytes`.
  void open_connections(int count, std::vector<int>& fds, const std::string& first_bytes = "") {
    for (int i = 0; i < count; ++i) {
      int fd = connect_from(port_);
      ASSERT_GE(fd, 0);
      fds.push_back(fd);
      if (!first_bytes.empty()) {
        ASSERT_EQ(::send(fd, first_bytes.data(), first_bytes.size(), MSG_NOSIGNAL),
                  static_cast<ssize_t>(first_bytes.size()));
      }
    }
  }

  // One complete GET /7/ on its own connection from `source`.
  std::string get_7_from(const char* source = "127.0.0.1") {
    return raw_http(port_, "GET /7/ HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", source);
  }

  // Closes every connection; returns how many of them `counted` held for first.
  template <typename Pred>
  static int close_counting(const std::vector<int>& fds, Pred counted) {
    int count = 0;
    for (int fd : fds) {
      if (counted(fd)) {
        ++count;
      }
      ::close(fd);
    }
    return count;
  }

  httplib::Client http() {
    httplib::Client client("127.0.0.1", port_);
    client.set_default_headers({{"Host", "calndro.test:9000"}});
    client.set_read_timeout(10, 0);
    return client;
  }

  FakeEventService::Call only_call() {
    auto calls = service_.calls();
    EXPECT_EQ(calls.size(), 1u);
    return calls.empty() ? FakeEventService::Call{} : calls.back();
  }

  FakeEventService service_;
  int service_max_metadata_ = 0;  // > 0: the fake service's GRPC_ARG_MAX_METADATA_SIZE
  std::unique_ptr<grpc::Server> grpc_server_;
  std::unique_ptr<EventClient> client_;
  std::unique_ptr<ServingGateway> gateway_;
  int port_ = 0;
};

TEST_F(GatewayServerTest, GetEventForwardsCredentialsAndBuildsUrlsFromHost) {
  auto res = http().Get("/7/", {{"Authorization", "Token abc123"}, {"X-Request-Id", "req-1.a_b"}});
  ASSERT_TRUE(answered_with(res, 200));
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(res->get_header_value("X-Request-Id"), "req-1.a_b");
  json body = json::parse(res->body);
  EXPECT_EQ(body["url"], "http://calndro.test:9000/7/");
  EXPECT_EQ(body["log_url"], "http://calndro.test:9000/7/log/");
  EXPECT_EQ(body["slots"][0]["begin"], "2022-11-01T01:11:22.020000Z");
  auto call = only_call();
  EXPECT_EQ(call.method, "GetEvent");
  EXPECT_EQ(call.metadata["authorization"], "Token abc123");
  EXPECT_EQ(call.metadata["x-request-id"], "req-1.a_b");
  EXPECT_EQ(call.metadata.count("x-email-token"), 0u);
  v1::GetEventRequest request;
  ASSERT_TRUE(request.ParseFromString(call.request));
  EXPECT_EQ(request.id(), 7);
}

TEST_F(GatewayServerTest, EventCalendarIsTextCalendarAsAnAttachment) {
  auto res = http().Get("/7/event.ics?et=secret", {{"Accept", "text/html"}});
  ASSERT_TRUE(answered_with(res, 200)) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/calendar; charset=utf-8");
  EXPECT_EQ(res->get_header_value("Content-Disposition"), "attachment; filename=\"calndro-7.ics\"");
  EXPECT_EQ(res->body, "BEGIN:VCALENDAR\r\nMETHOD:PUBLISH\r\nSUMMARY:Caf\xc3\xa9\r\nEND:VCALENDAR\r\n");
  auto call = only_call();
  EXPECT_EQ(call.method, "GetEventCalendar");
  EXPECT_EQ(call.metadata["x-email-token"], "secret");
  v1::GetEventCalendarRequest request;
  ASSERT_TRUE(request.ParseFromString(call.request));
  EXPECT_EQ(request.id(), 7);
  // A file name that would break the header is replaced.
  res = http().Get("/8/event.ics");
  ASSERT_TRUE(answered_with(res, 200));
  EXPECT_EQ(res->get_header_value("Content-Disposition"), "attachment; filename=\"calndro-8.ics\"");
  EXPECT_FALSE(res->has_header("X-Injected"));
}

TEST_F(GatewayServerTest, EventCalendarErrorsAreJson) {
  service_.fail_with(grpc::Status(grpc::StatusCode::NOT_FOUND, "Not found."));
  auto res = http().Get("/7/event.ics");
  ASSERT_TRUE(answered_with(res, 404));
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(json::parse(res->body), json::parse(R"({"detail": "Not found."})"));
  EXPECT_FALSE(res->has_header("Content-Disposition"));
}

TEST_F(GatewayServerTest, InsaneRequestIdIsReplaced) {
  auto res = http().Get("/7/", {{"X-Request-Id", "has space"}});
  ASSERT_TRUE(res);
  const std::string id = res->get_header_value("X-Request-Id");
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(only_call().metadata["x-request-id"], id);
}

TEST_F(GatewayServerTest, EmailTokenFromHeader) {
  auto res = http().Get("/7/?et=fromquery", {{"X-Email-Token", "fromheader"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(only_call().metadata["x-email-token"], "fromheader");
}

TEST_F(GatewayServerTest, EmailTokenFromQuery) {
  auto res = http().Get("/7/?et=fromquery");
  ASSERT_TRUE(answered_with(res, 200));
  EXPECT_EQ(only_call().metadata["x-email-token"], "fromquery");
}

TEST_F(GatewayServerTest, EmailTokenFromJsonBodyOnGet) {
  // httpie: http GET :9000/7/ et=KEY
  const std::string body = R"({"et": "frombody"})";
  std::string response = raw_http(port_,
                                  "GET /7/ HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
                                  "Content-Length: " +
                                      std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  EXPECT_EQ(response.rfind("HTTP/1.1 200", 0), 0u) << response;
  EXPECT_EQ(only_call().metadata["x-email-token"], "frombody");
}

TEST_F(GatewayServerTest, EmailTokenFromBodyOnPatchIsNotASlotField) {
  auto res = http().Patch("/7/", R"({"slots": [], "et": "frombody"})", "application/json");
  ASSERT_TRUE(answered_with(res, 202)) << res->body;
  auto call = only_call();
  EXPECT_EQ(call.metadata["x-email-token"], "frombody");
  v1::UpdateEventRequest request;
  ASSERT_TRUE(request.ParseFromString(call.request));
  EXPECT_TRUE(request.has_slots());
  EXPECT_FALSE(request.has_title());
}

TEST_F(GatewayServerTest, NonStringEmailTokenIs400) {
  auto res = http().Patch("/7/", R"({"slots": [], "et": 5})", "application/json");
  ASSERT_TRUE(answered_with(res, 400));
  EXPECT_EQ(json::parse(res->body), json::parse(R"({"et": ["Not a valid string."]})"));
  EXPECT_TRUE(service_.calls().empty());
}

TEST_F(GatewayServerTest, KeepAliveSurvivesAGetBody) {
  const std::string body = R"({"et": "one"})";
  std::string response =
      raw_http(port_, "GET /7/ HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n" + body +
                          "GET /8/?et=two HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(count_of(response, "HTTP/1.1 200 OK"), 2u) << response;
  auto calls = service_.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].metadata["x-email-token"], "one");
  EXPECT_EQ(calls[1].metadata["x-email-token"], "two");
}

TEST_F(GatewayServerTest, MissingSlashRedirectsKeepingQueryAndCallsNothing) {
  auto client = http();
  for (const char* path : {"/7", "/7/log", "/7/notify"}) {
    auto res = client.Get(std::string(path) + "?et=abc&x=1");
    ASSERT_TRUE(answered_with(res, 301)) << path;
    EXPECT_EQ(res->get_header_value("Location"), std::string(path) + "/?et=abc&x=1");
  }
  auto res = client.Get("/7");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->get_header_value("Location"), "/7/");
  EXPECT_TRUE(service_.calls().empty());
}

TEST_F(GatewayServerTest, MethodNotAllowedAndNotFound) {
  auto client = http();
  auto res = client.Get("/7/notify/");
  ASSERT_TRUE(answered_with(res, 405));
  EXPECT_EQ(res->get_header_value("Allow"), "POST");
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  EXPECT_TRUE(json::parse(res->body).contains("detail"));

  res = client.Put("/7/", "{}", "application/json");
  ASSERT_TRUE(answered_with(res, 405));
  EXPECT_EQ(res->get_header_value("Allow"), "GET, PATCH, DELETE");

  for (const char* path : {"/openapi/", "/0/", "/x/", "/7/nope/"}) {
    res = client.Get(path);
    ASSERT_TRUE(answered_with(res, 404)) << path;
    EXPECT_EQ(json::parse(res->body), json::parse(R"({"detail": "Not found."})"));
  }
  EXPECT_TRUE(service_.calls().empty());
}

TEST_F(GatewayServerTest, HealthAndOpenApi) {
  auto client = http();
  auto res = client.Get("/healthz");
  ASSERT_TRUE(answered_with(res, 200));
  EXPECT_EQ(json::parse(res->body), json::parse(R"({"status": "ok"})"));
  res = client.Get("/openapi");
  ASSERT_TRUE(answered_with(res, 200));
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  json doc = json::parse(res->body);
  EXPECT_EQ(doc["openapi"].get<std::string>().rfind("3.0", 0), 0u);
  for (const char* path : {"/", "/{id}/", "/{id}/notify/", "/{id}/log/", "/{id}/event.ics", "/{id}/changes/",
                           "/api-token-auth/", "/openapi", "/healthz"}) {
    EXPECT_TRUE(doc["paths"].contains(path)) << path;
  }
}

TEST_F(GatewayServerTest, OversizedBodiesAreJson413) {
  auto res = http().Post("/", std::string(70 * 1024, ' '), "application/json");
  ASSERT_TRUE(answered_with(res, 413));
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  EXPECT_TRUE(json::parse(res->body).contains("detail"));

  const std::string big(70 * 1024, ' ');
  std::string response =
      raw_http(port_, "GET /7/ HTTP/1.1\r\nHost: h\r\nContent-Length: " + std::to_string(big.size()) +
                          "\r\nConnection: close\r\n\r\n" + big);
  EXPECT_EQ(response.rfind("HTTP/1.1 413", 0), 0u) << response.substr(0, 200);
  EXPECT_NE(response.find("{\"detail\""), std::string::npos);
  EXPECT_TRUE(service_.calls().empty());
}

TEST_F(GatewayServerTest, BadJsonBodies) {
  auto client = http();
  for (const char* body : {"{nope", "[1, 2]", "\"text\"", "3"}) {
    auto res = client.Post("/", body, "application/json");
    ASSERT_TRUE(answered_with(res, 400)) << body;
    EXPECT_TRUE(json::parse(res->body)["detail"].is_string()) << body;
  }
  auto res =
      client.Post("/", R"({"parties": "x", "slots": [{"begin": "2021-02-30T10:00", "duration": "01:00"}]})",
                  "application/json");
  ASSERT_TRUE(answered_with(res, 400));
  json errors = json::parse(res->body);
  EXPECT_TRUE(errors.contains("parties"));
  EXPECT_EQ(errors["slots"][0].get<std::string>().rfind("Slot 1: begin: ", 0), 0u);
  EXPECT_TRUE(service_.calls().empty());
}

TEST_F(GatewayServerTest, CreateIs201) {
  auto res = http().Post("/",
                         R"({"parties": ["they@thar.net"], "title": "t",
                             "slots": [{"begin": "2022-11-01T03:11:22.02+02", "duration": "00:10"}]})",
                         "application/json");
  ASSERT_TRUE(answered_with(res, 201)) << res->body;
  EXPECT_EQ(json::parse(res->body)["id"], 9);
  v1::CreateEventRequest request;
  ASSERT_TRUE(request.ParseFromString(only_call().request));
  EXPECT_EQ(request.title(), "t");
  ASSERT_EQ(request.slots_size(), 1);
  EXPECT_EQ(request.slots(0).begin().seconds(), 1667265082);
  EXPECT_EQ(request.slots(0).duration().seconds(), 600);
}

TEST_F(GatewayServerTest, PatchWithoutFieldsIs400AndCallsNothing) {
  auto res = http().Patch("/7/", R"({"parties": ["x@y.z"]})", "application/json");
  ASSERT_TRUE(answered_with(res, 400));
  EXPECT_TRUE(json::parse(res->body).contains("detail"));
  EXPECT_TRUE(service_.calls().empty());
}

TEST_F(GatewayServerTest, DeleteIs204WithoutBody) {
  auto res = http().Delete("/7/");
  ASSERT_TRUE(answered_with(res, 204));
  EXPECT_TRUE(res->body.empty());
  EXPECT_EQ(only_call().method, "DeleteEvent");
}

TEST_F(GatewayServerTest, NotifyIs202WithUrlsFromTheHost) {
  auto res = http().Post(
      "/7/notify/",
      R"({"parties": ["they@thar.net"], "slots": [], "sender": "you@here.net", "invitation": true})",
      "application/json");
  ASSERT_TRUE(answered_with(res, 202)) << res->body;
  EXPECT_EQ(json::parse(res->body), json::parse(R"({"parties": ["they@thar.net"], "slots": [],
      "sender": "you@here.net", "event_url": "http://calndro.test:9000/7/",
      "log_url": "http://calndro.test:9000/7/log/", "notify_url": "http://calndro.test:9000/7/notify/"})"));
  v1::NotifyPartiesRequest request;
  ASSERT_TRUE(request.ParseFromString(only_call().request));
  EXPECT_EQ(request.sender(), "you@here.net");
  EXPECT_TRUE(request.invitation());
}

TEST_F(GatewayServerTest, PublicBaseUrlWins) {
  start("https://calndro.example/");
  auto res = http().Post("/7/notify/", R"({"parties": ["they@thar.net"], "slots": []})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(json::parse(res->body)["event_url"], "https://calndro.example/7/");
}

// The Host and the public base URL build this gateway's own URLs only: no
// call to the event service carries either (links in mails are the
// notification service's, from its configuration).
TEST_F(GatewayServerTest, NoHostOrBaseUrlCrossesToTheEventService) {
  for (const char* base : {"", "https://calndro.example/"}) {
    start(base);
    const std::size_t before = service_.calls().size();
    const std::string slot = R"({"begin": "2026-12-01T08:00:00Z", "duration": "01:00:00"})";
    ASSERT_TRUE(answered_with(http().Patch("/7/", R"({"title": "x"})", "application/json"), 202));
    ASSERT_TRUE(
        answered_with(http().Post("/7/notify/", R"({"parties": [], "slots": []})", "application/json"), 202));
    ASSERT_TRUE(
        answered_with(http().Post("/7/agree/", R"({"slot": )" + slot + "}", "application/json"), 200));
    ASSERT_TRUE(answered_with(http().Post("/7/reopen/", "{}", "application/json"), 200));
    ASSERT_TRUE(answered_with(http().Get("/7/event.ics"), 200));
    const auto calls = service_.calls();
    ASSERT_EQ(calls.size(), before + 5) << base;
    for (const auto& call : calls) {
      EXPECT_EQ(call.request.find("calndro.test"), std::string::npos) << call.method;
      EXPECT_EQ(call.request.find("calndro.example"), std::string::npos) << call.method;
      EXPECT_EQ(call.request.find("http"), std::string::npos) << call.method;
    }
  }
}

TEST_F(GatewayServerTest, LogAndPagingLink) {
  service_.set_next_page_token("n/x+1");
  auto res = http().Get("/7/log/?limit=2&after=abc&et=secret");
  ASSERT_TRUE(answered_with(res, 200)) << res->body;
  // httplib's client decodes header values: read the raw Link too.
  EXPECT_EQ(res->get_header_value("Link"),
            "<http://calndro.test:9000/7/log/?limit=2&after=n/x+1>; rel=\"next\"");
  std::string raw =
      raw_http(port_, "GET /7/log/?limit=2&et=secret HTTP/1.1\r\nHost: h:1\r\nConnection: close\r\n\r\n");
  EXPECT_NE(raw.find("Link: <http://h:1/7/log/?limit=2&after=n%2Fx%2B1>; rel=\"next\"\r\n"),
            std::string::npos)
      << raw;
  EXPECT_EQ(raw.find("secret"), std::string::npos);
  json body = json::parse(res->body);
  EXPECT_EQ(body["event"], "http://calndro.test:9000/7/");
  EXPECT_EQ(body["entries"][0]["occurrence"], "UPDATE");
  EXPECT_EQ(body["entries"][0]["data"], json::parse(R"({"opened": "created"})"));
  auto calls = service_.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].metadata["x-email-token"], "secret");
  v1::GetEventLogRequest request;
  ASSERT_TRUE(request.ParseFromString(calls[0].request));
  EXPECT_EQ(request.page_size(), 2);
  EXPECT_EQ(request.page_token(), "abc");
}

TEST_F(GatewayServerTest, ListAndBadLimit) {
  auto client = http();
  auto res = client.Get("/");
  ASSERT_TRUE(answered_with(res, 200));
  EXPECT_EQ(json::parse(res->body).size(), 2u);
  EXPECT_FALSE(res->has_header("Link"));
  for (const char* limit : {"0", "-1", "x", "99999999999"}) {
    res = client.Get(std::string("/?limit=") + limit);
    ASSERT_TRUE(answered_with(res, 400)) << limit;
    EXPECT_TRUE(json::parse(res->body).contains("limit")) << limit;
  }
  EXPECT_EQ(service_.calls().size(), 1u);
}

TEST_F(GatewayServerTest, ApiToken) {
  auto res = http().Post("/api-token-auth/", R"({"username": "u", "password": "p"})", "application/json");
  ASSERT_TRUE(answered_with(res, 200));
  EXPECT_EQ(json::parse(res->body), json::parse(R"({"token": "k3y"})"));
  v1::CreateApiTokenRequest request;
  ASSERT_TRUE(request.ParseFromString(only_call().request));
  EXPECT_EQ(request.username(), "u");
  EXPECT_EQ(request.password(), "p");
}

TEST_F(GatewayServerTest, ServiceErrorsMapToSpecBodies) {
  auto client = http();
  service_.fail_with(
      to_grpc_status(invalid_argument({{"slots", "Mismatch with event"}, {"parties", "Not in event: x@y"}})));
  auto res = client.Post("/7/notify/", R"({"parties": ["x@y"], "slots": []})", "application/json");
  ASSERT_TRUE(answered_with(res, 400));
  EXPECT_EQ(json::parse(res->body),
            json::parse(R"({"slots": ["Mismatch with event"], "parties": ["Not in event: x@y"]})"));

  service_.fail_with(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "Invalid username/password."));
  res = client.Get("/");
  ASSERT_TRUE(answered_with(res, 401));
  EXPECT_EQ(res->get_header_value("WWW-Authenticate"), "Basic realm=\"calndro\"");

  service_.fail_with(to_grpc_status(token_expired(Instant(std::chrono::seconds(1667265082)))));
  res = client.Get("/7/?et=old");
  ASSERT_TRUE(answered_with(res, 401));
  EXPECT_EQ(json::parse(res->body),
            json::parse(R"({"detail": "Token expired", "expires": "2022-11-01T01:11:22Z"})"));

  service_.fail_with(grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "Not a party."));
  res = client.Get("/7/");
  ASSERT_TRUE(answered_with(res, 403));

  service_.fail_with(grpc::Status(grpc::StatusCode::INTERNAL, "SELECT * FROM secret"));
  res = client.Get("/7/log/");
  ASSERT_TRUE(answered_with(res, 500));
  EXPECT_EQ(res->body.find("SELECT"), std::string::npos);
}

TEST_F(GatewayServerTest, ServiceDownIs503) {
  start("", /*service_up=*/false);
  auto res = http().Get("/7/");
  ASSERT_TRUE(answered_with(res, 503));
  EXPECT_TRUE(json::parse(res->body).contains("detail"));
}

TEST_F(GatewayServerTest, UnprintableCredentialsNeverReachGrpc) {
  std::string response = raw_http(port_, "GET /7/?et=%01x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(response.rfind("HTTP/1.1 400", 0), 0u) << response;
  response = raw_http(
      port_, "GET /7/ HTTP/1.1\r\nHost: h\r\nAuthorization: Token \xff\xfe\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(response.rfind("HTTP/1.1 400", 0), 0u) << response;
  EXPECT_TRUE(service_.calls().empty());
}

TEST_F(GatewayServerTest, GarbageNeverCrashes) {
  for (const char* request : {"\r\n\r\n", "GARBAGE\r\n\r\n", "GET\r\n\r\n", "GET / HTTP/9.9\r\n\r\n",
                              "GET /7/ HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
                              "GET /7/ HTTP/1.1\r\nContent-Length: 10\r\n\r\n{\"et\"",
                              "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}) {
    raw_http(port_, request);
  }
  auto res = http().Get("/healthz");
  ASSERT_TRUE(answered_with(res, 200));
}

// --- The front door: Host, client address, media type, head limits,
// --- idle connections, the channel.

std::string big(std::size_t size) {
  return std::string(size, 'a');
}

using Clock = std::chrono::steady_clock;

TEST_F(GatewayServerTest, HostNotAllowedIs400BeforeAnyRpc) {
  httplib::Client client("127.0.0.1", port_);
  auto res = client.Post("/7/notify/", {{"Host", "evil.example"}}, R"({"parties": ["x@y.z"], "slots": []})",
                         "application/json");
  ASSERT_TRUE(answered_with(res, 400));
  EXPECT_EQ(
      json::parse(res->body)["detail"].get<std::string>().rfind("Invalid Host header: 'evil.example'.", 0),
      0u)
      << res->body;
  for (const char* path : {"/", "/7/", "/openapi", "/nope"}) {
    res = client.Get(path, {{"Host", "evil.example:9000"}});
    ASSERT_TRUE(answered_with(res, 400)) << path;
  }
  // Probes send pod addresses.
  for (const char* path : {"/healthz", "/readyz"}) {
    res = client.Get(path, {{"Host", "10.1.2.3:9000"}});
    ASSERT_TRUE(answered_with(res, 200)) << path;
  }
  // No Host, two Hosts, and a long one with controls: quoted short and printable.
  std::string response = raw_http(port_, "GET /7/ HTTP/1.0\r\n\r\n");
  EXPECT_EQ(response.rfind("HTTP/1.1 400", 0), 0u) << response;
  EXPECT_NE(response.find("Invalid Host header: ''"), std::string::npos) << response;
  response =
      raw_http(port_, "GET /7/ HTTP/1.1\r\nHost: h\r\nHost: evil.example\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(response.rfind("HTTP/1.1 400", 0), 0u) << response;
  response =
      raw_http(port_, "GET /7/ HTTP/1.1\r\nHost: e\x01vil" + big(300) + "\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(response.rfind("HTTP/1.1 400", 0), 0u) << response;
  EXPECT_NE(response.find("e?vil" + big(59) + "...'"), std::string::npos) << response;
  EXPECT_EQ(response.find(big(100)), std::string::npos);
  EXPECT_TRUE(service_.calls().empty());
}

TEST_F(GatewayServerTest, AllowedHostsAndPublicBaseUrl) {
  GatewayOptions options;
  options.allowed_hosts = ".example.org";
  start("https://links.calndro.test", true, small_server(), options);
  httplib::Client client("127.0.0.1", port_);
  for (const char* host : {"example.org", "a.example.org:9000", "links.calndro.test"}) {
    auto res = client.Get("/7/", {{"Host", host}});
    ASSERT_TRUE(answered_with(res, 200)) << host;
    EXPECT_EQ(json::parse(res->body)["url"], "https://links.calndro.test/7/") << host;
  }
  auto res = client.Get("/7/", {{"Host", "calndro.test"}});
  ASSERT_TRUE(answered_with(res, 400));
  GatewayOptions malformed;
  malformed.allowed_hosts = "http://x.example";
  EXPECT_THROW(Router(*client_, malformed), std::invalid_argument);
}

TEST_F(GatewayServerTest, ClientAddressIsThePeerUnlessATrustedProxyForwards) {
  auto res =
      http().Get("/7/", {{"X-Forwarded-For", "203.0.113.9"}, {"X-Calndro-Client-Addr", "198.51.100.1"}});
  ASSERT_TRUE(answered_with(res, 200));
  EXPECT_EQ(only_call().metadata["x-calndro-client-addr"], "127.0.0.1");

  GatewayOptions options;
  options.trusted_proxies = TrustedProxies::parse("127.0.0.0/8");
  start("", true, small_server(), options);
  res = http().Get("/7/", {{"X-Forwarded-For", "198.51.100.1, 203.0.113.9, 127.0.0.5"}});
  ASSERT_TRUE(res);
  auto calls = service_.calls();
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls.back().metadata["x-calndro-client-addr"], "203.0.113.9");
  res = http().Get("/7/", {{"X-Forwarded-For", "<script>"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(service_.calls().back().metadata["x-calndro-client-addr"], "127.0.0.1");
}

TEST_F(GatewayServerTest, EveryCallCarriesTheInternalCredential) {
  // The event service believes x-calndro-client-addr only with it (SPEC §2).
  ASSERT_TRUE(answered_with(http().Get("/7/"), 200));
  EXPECT_EQ(only_call().metadata["x-calndro-internal"], kInternalToken);
  ASSERT_TRUE(answered_with(
      http().Post("/api-token-auth/", R"({"username": "u", "password": "p"})", "application/json"), 200));
  EXPECT_EQ(service_.calls().back().metadata["x-calndro-internal"], kInternalToken);
}

TEST_F(GatewayServerTest, BodiesMustBeJson) {
  auto client = http();
  auto res = client.Post("/", R"({"parties": ["x@y.z"], "slots": []})", "text/plain");
  ASSERT_TRUE(answered_with(res, 415));
  EXPECT_EQ(json::parse(res->body)["detail"], "Unsupported media type \"text/plain\" in request.");
  res = client.Post("/7/notify/", "parties=x", "application/x-www-form-urlencoded");
  ASSERT_TRUE(answered_with(res, 415));
  // A body without Content-Type: what a form with enctype="text/plain" can be made to send.
  std::string response = raw_http(port_,
                                  "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n"
                                  "Connection: close\r\n\r\n{}");
  EXPECT_EQ(response.rfind("HTTP/1.1 415", 0), 0u) << response;
  response = raw_http(port_,
                      "GET /7/ HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}"
                      "GET /7/ HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(response.rfind("HTTP/1.1 415", 0), 0u) << response;
  EXPECT_EQ(count_of(response, "HTTP/1.1 200 OK"), 1u) << response;
  EXPECT_EQ(service_.calls().size(), 1u);

  for (const char* type :
       {"application/json; charset=utf-8", "Application/JSON;charset=\"UTF-8\"", "application/json"}) {
    res = client.Post("/", R"({"parties": ["x@y.z"], "slots": []})", type);
    ASSERT_TRUE(answered_with(res, 201)) << type;
  }
  // No body, no Content-Type needed.
  res = client.Delete("/7/");
  ASSERT_TRUE(answered_with(res, 204));
}

TEST_F(GatewayServerTest, CrossSiteWritesAndCredentialedReadsAre403AndCallNothing) {
  auto client = http();
  const httplib::Headers cross_site{{"Sec-Fetch-Site", "cross-site"}, {"Sec-Fetch-Mode", "no-cors"}};
  // An empty body (no 415 to stop it), an unknown path, a read that logs a VIEW.
  auto res = client.Post("/7/reopen/", cross_site, "", "");
  ASSERT_TRUE(answered_with(res, 403));
  EXPECT_EQ(json::parse(res->body)["detail"].get<std::string>().rfind(
                "Cross-origin request refused: Sec-Fetch-Site is 'cross-site'.", 0),
            0u);
  ASSERT_TRUE(answered_with(client.Post("/nowhere/", cross_site, "", ""), 403));
  ASSERT_TRUE(answered_with(client.Delete("/7/", {{"Origin", "null"}}), 403));
  ASSERT_TRUE(answered_with(client.Get("/7/event.ics", {{"Sec-Fetch-Site", "cross-site"},
                                                        {"Sec-Fetch-Mode", "no-cors"},
                                                        {"Sec-Fetch-Dest", "image"}}),
                            403));
  EXPECT_TRUE(service_.calls().empty());
  // Open reads, a top-level navigation, this site's page and non-browsers pass.
  ASSERT_TRUE(answered_with(client.Get("/healthz", cross_site), 200));
  ASSERT_TRUE(answered_with(client.Get("/7/event.ics", {{"Sec-Fetch-Site", "cross-site"},
                                                        {"Sec-Fetch-Mode", "navigate"},
                                                        {"Sec-Fetch-Dest", "document"}}),
                            200));
  const std::string title = R"({"title": "t"})";
  ASSERT_TRUE(
      answered_with(client.Patch("/7/", {{"Sec-Fetch-Site", "same-origin"}, {"Origin", "http://elsewhere"}},
                                 title, "application/json"),
                    202));
  ASSERT_TRUE(answered_with(
      client.Patch("/7/", {{"Origin", "http://calndro.test:9000"}}, title, "application/json"), 202));
  ASSERT_TRUE(answered_with(client.Delete("/7/"), 204));
  EXPECT_EQ(service_.calls().size(), 4u);
}

TEST(JsonContentType, AcceptsJsonInUtf8Only) {
  const auto json = [](const std::string& type) { return json_content_type(type); };
  testing::expect_all(json,
                      {"application/json", " application/json ; charset=utf-8", "application/json; foo=bar"});
  testing::expect_none(json, {"", "text/plain", "application/jsonx", "application/json; charset=latin1",
                              "multipart/form-data; boundary=x"});
}

TEST_F(GatewayServerTest, OversizedHeadIs431AndTheConnectionServesTheNextRequest) {
  const std::string next = "GET /8/ HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
  // Over 16 KiB in all; 8..16 KiB in one line (httplib's line limit);
  // over the forwarded-header cap, which gRPC metadata must never see.
  for (std::size_t size : {std::size_t{20 * 1024}, std::size_t{10 * 1024}, std::size_t{5 * 1024}}) {
    service_.fail_with(grpc::Status::OK);
    const std::string response = raw_http(
        port_, "GET /7/ HTTP/1.1\r\nHost: h\r\nAuthorization: Basic " + big(size) + "\r\n\r\n" + next);
    EXPECT_EQ(response.rfind("HTTP/1.1 431", 0), 0u) << size << ": " << response.substr(0, 300);
    EXPECT_NE(response.find("{\"detail\":"), std::string::npos) << size;
    EXPECT_EQ(response.find("metadata"), std::string::npos) << size;
    EXPECT_EQ(count_of(response, "HTTP/1.1 200 OK"), 1u) << size << ": " << response;
  }
  // A body after the oversized head is skipped, not taken for a request.
  const std::string body = R"({"parties": ["x@y.z"], "slots": []})";
  std::string response = raw_http(port_, "POST / HTTP/1.1\r\nHost: h\r\nX-Big: " + big(20 * 1024) +
                                             "\r\nContent-Type: application/json\r\nContent-Length: " +
                                             std::to_string(body.size()) + "\r\n\r\n" + body + next);
  EXPECT_EQ(response.rfind("HTTP/1.1 431", 0), 0u) << response.substr(0, 300);
  EXPECT_EQ(count_of(response, "HTTP/1.1 200 OK"), 1u) << response;
  auto calls = service_.calls();
  ASSERT_EQ(calls.size(), 4u);
  for (const auto& call : calls) {
    EXPECT_EQ(call.method, "GetEvent");
  }
  // A head that never ends within 64 KiB: 431 and the connection closes.
  response = raw_http(port_, "GET /7/ HTTP/1.1\r\nHost: h\r\nX-Big: " + big(100 * 1024) + "\r\n\r\n" + next);
  EXPECT_EQ(response.rfind("HTTP/1.1 431", 0), 0u) << response.substr(0, 300);
  EXPECT_NE(response.find("Connection: close"), std::string::npos);
  EXPECT_EQ(count_of(response, "HTTP/1.1 200 OK"), 0u);
}

TEST_F(GatewayServerTest, OversizedTokenHeaderIs431AndCallsNothing) {
  auto res = http().Get("/7/", {{"X-Email-Token", big(kMaxEmailTokenBytes + 1)}});
  ASSERT_TRUE(answered_with(res, 431));
  EXPECT_NE(json::parse(res->body)["detail"].get<std::string>().find("X-Email-Token"), std::string::npos);
  res = http().Get("/7/?et=" + big(kMaxEmailTokenBytes + 1));
  ASSERT_TRUE(answered_with(res, 400));
  EXPECT_TRUE(json::parse(res->body).contains("et"));
  EXPECT_TRUE(service_.calls().empty());
}

TEST_F(GatewayServerTest, ARequestHeadMustArriveInTime) {
  HttpServerOptions options = small_server();
  options.head_timeout = std::chrono::milliseconds(300);
  start("", true, options);
  int fd = connect_from(port_);
  ASSERT_GE(fd, 0);
  timeval timeout{0, 50'000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  const std::string head = "GET /7/ HTTP/1.1\r\nHost: h\r\nX-Slow: " + big(100);
  std::string response;
  const auto started = Clock::now();
  // A byte every 50 ms: never idle long, never done.
  for (std::size_t i = 0; i < head.size() && Clock::now() - started < std::chrono::seconds(5); ++i) {
    if (::send(fd, &head[i], 1, MSG_NOSIGNAL) != 1) {
      break;
    }
    char buffer[1024];
    ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n == 0) {
      break;
    }
    if (n > 0) {
      response.append(buffer, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(4));
  EXPECT_EQ(response.rfind("HTTP/1.1 408", 0), 0u) << response;
  EXPECT_TRUE(service_.calls().empty());
}

TEST_F(GatewayServerTest, IdleConnectionsDoNotLockOutAnotherClient) {
  start_with_cap(1000);  // the pool alone must cope
  std::vector<int> idle;
  ASSERT_NO_FATAL_FAILURE(open_connections(50, idle));
  const auto started = Clock::now();
  const std::string response = get_7_from("127.0.0.2");
  const auto elapsed = Clock::now() - started;
  for (int fd : idle) {
    ::close(fd);
  }
  EXPECT_EQ(response.rfind("HTTP/1.1 200", 0), 0u) << response;
  EXPECT_LT(elapsed, std::chrono::seconds(3));
}

TEST_F(GatewayServerTest, OneWaitingConnectionClosesOneIdleConnection) {
  start_with_cap(1000);  // 4 workers
  std::vector<int> idle;
  ASSERT_NO_FATAL_FAILURE(open_connections(4, idle));
  std::this_thread::sleep_for(kLingerAfter * 2);
  const std::string response = get_7_from("127.0.0.2");
  EXPECT_EQ(response.rfind("HTTP/1.1 200", 0), 0u) << response;
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const int open = close_counting(idle, [](int fd) {
    char byte;
    return ::recv(fd, &byte, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN;  // nothing to read and not closed
  });
  EXPECT_EQ(open, 3);
}

TEST_F(GatewayServerTest, AnAddressAtItsCapDisplacesItsIdleConnections) {
  start_with_cap(2);
  std::vector<int> idle;
  ASSERT_NO_FATAL_FAILURE(open_connections(50, idle));
  const auto started = Clock::now();
  const std::string response = get_7_from();
  const auto elapsed = Clock::now() - started;
  EXPECT_EQ(response.rfind("HTTP/1.1 200", 0), 0u) << response;
  EXPECT_LT(elapsed, std::chrono::seconds(3));
  // The idle ones over the cap were refused with a reason.
  const int refused = close_counting(idle, [](int fd) {
    timeval timeout{0, 200'000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    char buffer[512] = {};
    return ::recv(fd, buffer, sizeof(buffer) - 1, 0) > 0 && std::string(buffer).rfind("HTTP/1.1 429", 0) == 0;
  });
  EXPECT_GT(refused, 0);
}

TEST_F(GatewayServerTest, SlowHeadsOverTheLingeringLimitAreRefusedARequestSentAtOnceIsServed) {
  start_with_cap(1000, 2);
  // Two connections in the middle of a request head for longer than kLingerAfter.
  std::vector<int> slow;
  ASSERT_NO_FATAL_FAILURE(open_connections(2, slow, "GET /7/ HTTP/1.1\r\n"));
  std::this_thread::sleep_for(kLingerAfter + std::chrono::milliseconds(100));
  // A request that arrives whole is work, not lingering: served.
  std::string response = get_7_from();
  EXPECT_EQ(response.rfind("HTTP/1.1 200", 0), 0u) << response;
  // A third slow head from the same address is refused once it lingers.
  const auto started = Clock::now();
  std::vector<int> third;
  ASSERT_NO_FATAL_FAILURE(open_connections(1, third, "GET /7/ HTTP/1.1\r\n"));
  timeval wait{3, 0};
  ::setsockopt(third[0], SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait));
  char answer[512] = {};
  EXPECT_GT(::recv(third[0], answer, sizeof(answer) - 1, MSG_WAITALL), 0);
  ::close(third[0]);
  response = answer;
  EXPECT_EQ(response.rfind("HTTP/1.1 429", 0), 0u) << response;
  EXPECT_NE(response.find("Retry-After: 1"), std::string::npos);
  EXPECT_NE(response.find("Too many slow or idle connections from your address."), std::string::npos);
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(2));
  // Another address is not affected; the slow ones finish normally.
  response = get_7_from("127.0.0.3");
  EXPECT_EQ(response.rfind("HTTP/1.1 200", 0), 0u) << response;
  for (int fd : slow) {
    const std::string rest = "Host: h\r\nConnection: close\r\n\r\n";
    ASSERT_EQ(::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL), static_cast<ssize_t>(rest.size()));
    timeval timeout{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    char buffer[64] = {};
    EXPECT_GT(::recv(fd, buffer, sizeof(buffer) - 1, 0), 0);
    EXPECT_EQ(std::string(buffer).rfind("HTTP/1.1 200", 0), 0u) << buffer;
    ::close(fd);
  }
}

TEST_F(GatewayServerTest, IdleConnectionsOverTheLingeringLimitAreClosed) {
  start_with_cap(1000, 2);
  std::vector<int> idle;
  ASSERT_NO_FATAL_FAILURE(open_connections(4, idle));  // one per worker
  std::this_thread::sleep_for(kLingerAfter * 3);
  const int open = close_counting(idle, [](int fd) {
    char byte;
    return ::recv(fd, &byte, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN;  // nothing to read and not closed
  });
  EXPECT_EQ(open, 2);
}

// A connection's place is free once the server decides to close it: a
// client that reconnects at once (it saw Connection: close) is not refused
// because the old connection is still being torn down.
TEST_F(GatewayServerTest, AConnectionsPlaceIsFreeOnceTheServerDecidesToCloseIt) {
  HttpServerOptions options = small_server();
  options.per_address = {.per_address = 1, .lingering_per_address = 16};
  options.keep_alive_max_requests = 2;
  start("", true, options);
  service_.delay_answers(std::chrono::milliseconds(600));
  // The last request a connection may serve, and one sent with Connection: close.
  const std::vector<std::string> last_requests = {
      "GET /healthz HTTP/1.1\r\nHost: h\r\n\r\nGET /7/ HTTP/1.1\r\nHost: h\r\n\r\n",
      "GET /7/ HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
  };
  for (const std::string& requests : last_requests) {
    std::string first;
    std::thread old_connection([&] { first = raw_http(port_, requests); });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // its last request is being answered
    const std::string next = raw_http(port_, "GET /healthz HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    old_connection.join();
    EXPECT_EQ(next.rfind("HTTP/1.1 200", 0), 0u) << next;
    EXPECT_EQ(count_of(first, "HTTP/1.1 200 OK"), requests.find("healthz") != std::string::npos ? 2u : 1u)
        << first;
  }
}

TEST_F(GatewayServerTest, MetricsAreNotServedOnThePublicPort) {
  auto res = http().Get("/metrics");
  ASSERT_TRUE(answered_with(res, 404));
}

TEST_F(GatewayServerTest, ABrokenConnectionToTheServiceIsNotTheNextCallersProblem) {
  // A service whose metadata limit is below what the gateway lets through:
  // it answers the big call and drops the connection under the next one.
  service_max_metadata_ = 1024;
  start("");
  // Straight through the client: the call right after the big one must not
  // find its connection closed ("Socket closed": UNAVAILABLE, a 503).
  for (int i = 0; i < 5; ++i) {
    CallMetadata big_meta;
    big_meta.authorization = "Basic " + big(2000);
    v1::GetEventRequest request;
    request.set_id(7);
    v1::Event event;
    client_->get_event(big_meta, request, &event);
    const grpc::Status next = client_->get_event(CallMetadata{}, request, &event);
    EXPECT_TRUE(next.ok()) << i << ": " << next.error_code() << " " << next.error_message();
  }
  // And over HTTP, the next request on the same connection.
  const std::string response =
      raw_http(port_, "GET /7/ HTTP/1.1\r\nHost: h\r\nAuthorization: Basic " + big(2000) +
                          "\r\n\r\nGET /8/ HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(count_of(response, "HTTP/1.1 200 OK"), 1u) << response;
}

TEST(ClassifyFailure, OnlyGrpcsOwnUnavailableIsATransportFailure) {
  using grpc::StatusCode;
  EXPECT_EQ(classify_failure(grpc::Status::OK), CallFailure::kNone);
  EXPECT_EQ(classify_failure(
                grpc::Status(StatusCode::UNAVAILABLE, "The database is unavailable; try again later.")),
            CallFailure::kNone);
  EXPECT_EQ(classify_failure(grpc::Status(StatusCode::RESOURCE_EXHAUSTED, "Socket closed")),
            CallFailure::kNone);
  EXPECT_EQ(classify_failure(grpc::Status(StatusCode::UNAVAILABLE,
                                          "failed to connect to all addresses; last error: UNKNOWN: x")),
            CallFailure::kNotSent);
  EXPECT_EQ(classify_failure(grpc::Status(StatusCode::UNAVAILABLE, "Socket closed")),
            CallFailure::kMaybeSent);
  EXPECT_EQ(classify_failure(grpc::Status(StatusCode::UNAVAILABLE, "GOAWAY received")),
            CallFailure::kMaybeSent);
}

}  // namespace
}  // namespace calndro::gateway
