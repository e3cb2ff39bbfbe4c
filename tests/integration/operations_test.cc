// How calndro behaves as a running service: metrics, health and readiness,
// the --health-check mode, logs that carry no secret, and a clean exit on
// SIGTERM.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <signal.h>
#include <unistd.h>
#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <pqxx/pqxx>
#include <regex>
#include <sstream>
#include <thread>

#include "grpc/health/v1/health.grpc.pb.h"
#include "support/http_call.h"
#include "support/stack.h"
#include "support/wait.h"

using namespace calndro::testing;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

std::string get_metrics(int port) {
  httplib::Client client("127.0.0.1", port);
  auto response = client.Get("/metrics");
  if (!response || response->status != 200) {
    ADD_FAILURE() << "no metrics on port " << port;
    return "";
  }
  EXPECT_NE(response->get_header_value("Content-Type").find("text/plain"), std::string::npos);
  return response->body;
}

// The value of the first sample whose line starts with `prefix`, or -1.
double sample(const std::string& text, const std::string& prefix) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(prefix, 0) == 0) {
      return std::stod(line.substr(line.rfind(' ') + 1));
    }
  }
  return -1;
}

// How much the counter starting with `prefix` grew from `before` to `after`
// (a counter not there yet is 0).
double added(const std::string& before, const std::string& after, const std::string& prefix) {
  return std::max(0.0, sample(after, prefix)) - std::max(0.0, sample(before, prefix));
}

grpc::health::v1::HealthCheckResponse::ServingStatus health_of(
    const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 2s);
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  const auto status = stub->Check(&context, request, &response);
  return status.ok() ? response.status() : grpc::health::v1::HealthCheckResponse::UNKNOWN;
}

::testing::AssertionResult wait_for_health(const std::shared_ptr<grpc::Channel>& channel,
                                           grpc::health::v1::HealthCheckResponse::ServingStatus wanted,
                                           std::chrono::seconds timeout) {
  return wait_until([&] { return health_of(channel) == wanted; }, timeout,
                    "health " + grpc::health::v1::HealthCheckResponse::ServingStatus_Name(wanted));
}

class Operations : public StackTest {
 protected:
  // Tests here stop processes: StackTest starts them again for the next.
  void prepare() override { user_ = stack().create_user(unique_email("ops"), "ops-Pass-1"); }

  httplib::Result post(const std::string& path, const json& body) {
    httplib::Client client = stack().http();
    httplib::Headers headers = {{"Authorization", basic_auth(user_.email, user_.password)}};
    return client.Post(path.c_str(), headers, body.dump(), "application/json");
  }

  // An event of user_ alone on `slots`: its id, or "" after a failure.
  std::string create_event(const json& slots) {
    auto created = post("/", {{"parties", {user_.email}}, {"slots", slots}});
    if (!created || created->status != 201) {
      ADD_FAILURE() << "create: " << (created ? created->body : "no answer");
      return "";
    }
    return std::to_string(json::parse(created->body).at("id").get<long long>());
  }

  // Stops `process` (it must exit 0), lays `env` over its environment and
  // starts it again; the stack is ready on return. The test restores what
  // later tests must not inherit.
  void restart_with(Process& process, const Env& env) {
    ASSERT_EQ(process.terminate(), 0) << process.log_tail();
    for (const auto& [name, value] : env) {
      process.env()[name] = value;
    }
    process.start();
    stack().wait_ready();
  }

  // An event of user_ with `guest`, notified to the guest, its mail
  // delivered; the event's id, or "" after a failure.
  std::string create_and_notify(const std::string& guest) {
    const json slots = json::array({{{"begin", "2031-01-02T10:00:00Z"}, {"duration", "01:00"}}});
    auto created = post("/", {{"parties", {user_.email, guest}}, {"slots", slots}});
    if (!created || created->status != 201) {
      ADD_FAILURE() << "create: " << (created ? created->body : "no answer");
      return "";
    }
    const std::string id = std::to_string(json::parse(created->body)["id"].get<long long>());
    auto notified = post("/" + id + "/notify/", {{"parties", {guest}}, {"slots", slots}});
    if (!notified || notified->status != 202) {
      ADD_FAILURE() << "notify: " << (notified ? notified->body : "no answer");
      return "";
    }
    stack().smtp().wait_for_to(guest, 1, 30s);
    return id;
  }

  User user_;
};

TEST_F(Operations, ServicesCountCallsAndDeliveriesInPrometheusFormat) {
  // The binary's other tests share the stack: count what this one adds.
  const std::string created =
      "calndro_rpc_total{code=\"0\",method=\"/calndro.events.v1.EventService/CreateEvent\"}";
  const std::string notified =
      "calndro_rpc_total{code=\"0\",method=\"/calndro.events.v1.EventService/NotifyParties\"}";
  const std::string sent = "calndro_mail_delivery_attempts_total{outcome=\"sent\"}";
  const std::string queued =
      "calndro_rpc_total{code=\"0\",method=\"/calndro.notify.v1.NotificationService/QueueNotifications\"}";
  const std::string events_before = get_metrics(stack().events_metrics_port());
  const std::string notify_before = get_metrics(stack().notify_metrics_port());
  ASSERT_FALSE(create_and_notify(unique_email("opsguest")).empty());

  const std::string events = get_metrics(stack().events_metrics_port());
  EXPECT_EQ(added(events_before, events, created), 1) << events;
  EXPECT_EQ(added(events_before, events, notified), 1) << events;
  EXPECT_GE(
      sample(events,
             "calndro_rpc_duration_seconds_count{method=\"/calndro.events.v1.EventService/CreateEvent\"}"),
      1);
  // Background rounds (the outbox relay handing this notify's mail on, the log sealer, the
  // webhook relay) borrow a connection for a moment: what must hold is that every loan comes back.
  EXPECT_TRUE(wait_until(
      [&] {
        return sample(get_metrics(stack().events_metrics_port()), "calndro_db_pool_connections_in_use") == 0;
      },
      5s, "the event service's pool to have every connection back"));

  // The dispatcher commits "sent" right after the SMTP server accepted.
  std::string notify;
  EXPECT_TRUE(wait_until(
      [&] {
        notify = get_metrics(stack().notify_metrics_port());
        return added(notify_before, notify, sent) >= 1 && sample(notify, "calndro_outbox_depth") == 0;
      },
      5s, "the notification service to count the mail sent and its outbox empty"));
  EXPECT_EQ(added(notify_before, notify, sent), 1) << notify;
  EXPECT_EQ(sample(notify, "calndro_outbox_depth"), 0) << notify;
  EXPECT_EQ(added(notify_before, notify, queued), 1) << notify;
}

TEST_F(Operations, GatewayServesRequestMetricsAndReadiness) {
  httplib::Client client = stack().http();
  httplib::Client metrics_client("127.0.0.1", stack().gateway_metrics_port());
  auto before = metrics_client.Get("/metrics");
  ASSERT_TRUE(before);
  ASSERT_TRUE(client.Get("/1234567/"));  // 401: counted under its route template, not its path
  // Operators' numbers are not for the public port.
  auto public_metrics = client.Get("/metrics");
  ASSERT_TRUE(public_metrics);
  EXPECT_EQ(public_metrics->status, 404);
  auto metrics = metrics_client.Get("/metrics");
  ASSERT_TRUE(metrics);
  ASSERT_EQ(metrics->status, 200);
  EXPECT_EQ(added(before->body, metrics->body,
                  "calndro_http_requests_total{method=\"GET\",route=\"/{id}/\",status=\"401\"}"),
            1)
      << metrics->body;
  EXPECT_EQ(metrics->body.find("1234567"), std::string::npos);
  EXPECT_GE(sample(metrics->body, "calndro_http_request_duration_seconds_count{route=\"/{id}/\"}"), 1);

  auto ready = client.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200) << ready->body;
  EXPECT_EQ(json::parse(ready->body),
            (json{{"status", "ready"}, {"events", "SERVING"}, {"notify", "SERVING"}}));
  const auto probe = run_command(bin_path("calndro-gateway"), {"--health-check"}, stack().env(), "", 20s);
  EXPECT_EQ(probe.exit_code, 0) << probe.output();

  ASSERT_EQ(stack().notify().terminate(), 0);
  auto not_ready = client.Get("/readyz");
  ASSERT_TRUE(not_ready);
  EXPECT_EQ(not_ready->status, 503) << not_ready->body;
  EXPECT_EQ(json::parse(not_ready->body)["notify"], "UNREACHABLE") << not_ready->body;
  auto alive = client.Get("/healthz");
  ASSERT_TRUE(alive);
  EXPECT_EQ(alive->status, 200);
  const auto failed_probe =
      run_command(bin_path("calndro-gateway"), {"--health-check"}, stack().env(), "", 20s);
  EXPECT_EQ(failed_probe.exit_code, 1) << failed_probe.output();
}

// One request id follows a request through the gateway and both services'
// logs (one JSON object per line), and comes back in the response.
TEST_F(Operations, RequestIdTravelsThroughEveryProcessAndLogsAreJsonLines) {
  const std::string guest = unique_email("traced");
  const json slots = json::array({{{"begin", "2031-05-06T07:00:00Z"}, {"duration", "00:20"}}});
  auto created = post("/", {{"parties", {user_.email, guest}}, {"slots", slots}});
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201);
  EXPECT_FALSE(created->get_header_value("X-Request-Id").empty());
  const std::string id = std::to_string(json::parse(created->body)["id"].get<long long>());

  httplib::Client client = stack().http();
  const std::string request_id = "ops-trace-" + std::to_string(::getpid());
  const httplib::Headers headers = {{"Authorization", basic_auth(user_.email, user_.password)},
                                    {"X-Request-Id", request_id}};
  auto notified = client.Post(("/" + id + "/notify/").c_str(), headers,
                              json{{"parties", {guest}}, {"slots", slots}}.dump(), "application/json");
  ASSERT_TRUE(notified);
  ASSERT_EQ(notified->status, 202) << notified->body;
  EXPECT_EQ(notified->get_header_value("X-Request-Id"), request_id);

  for (Process* process : {&stack().gateway(), &stack().events(), &stack().notify()}) {
    // The gateway writes its access line once the response is on the wire.
    std::string log;
    (void)wait_until(
        [&] {
          log = process->log();
          return log.find(request_id) != std::string::npos;
        },
        5s, process->program() + " to log the request");
    EXPECT_NE(log.find("\"request_id\":\"" + request_id + "\""), std::string::npos)
        << process->program() << ":\n"
        << process->log_tail();
    std::istringstream lines(log);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.empty() || line.front() != '{') {
        continue;  // the harness's own "---- start" markers
      }
      EXPECT_TRUE(json::accept(line)) << process->program() << ": " << line;
    }
  }
}

// Passwords, API keys and email tokens travel only in the caller's own
// requests and in the mail: no log line of any process may carry one, in
// clear or as the Basic header's base64.
TEST_F(Operations, SecretsNeverReachTheLogs) {
  const std::string guest = unique_email("secret");
  const std::string id = create_and_notify(guest);
  ASSERT_FALSE(id.empty());
  const auto mails = stack().smtp().wait_for_to(guest, 1);
  const std::string text = mails.front().text();
  const auto at = text.find("?et=");
  ASSERT_NE(at, std::string::npos) << text;
  const std::string email_token = text.substr(at + 4, 40);

  httplib::Client client = stack().http();
  auto viewed = client.Get(("/" + id + "/?et=" + email_token).c_str());
  ASSERT_TRUE(viewed);
  EXPECT_EQ(viewed->status, 200);
  auto by_header = client.Get(("/" + id + "/").c_str(), {{"X-Email-Token", email_token}});
  ASSERT_TRUE(by_header);
  EXPECT_EQ(by_header->status, 200);
  const std::string wrong_password = "wrong-Pass-" + std::to_string(::getpid());
  auto refused = client.Get("/", {{"Authorization", basic_auth(user_.email, wrong_password)}});
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  auto minted =
      client.Post("/api-token-auth/", json{{"username", user_.email}, {"password", user_.password}}.dump(),
                  "application/json");
  ASSERT_TRUE(minted);
  ASSERT_EQ(minted->status, 200) << minted->body;
  const std::string api_key = json::parse(minted->body)["token"].get<std::string>();
  auto listed = client.Get("/", {{"Authorization", "Token " + api_key}});
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->status, 200);

  const std::vector<std::string> secrets = {user_.password,
                                            wrong_password,
                                            email_token,
                                            api_key,
                                            base64(user_.email + ":" + user_.password),
                                            base64(user_.email + ":" + wrong_password)};
  // The gateway logs a request after answering it: wait for the last one's line.
  const std::string last_request = listed->get_header_value("X-Request-Id");
  EXPECT_TRUE(wait_until([&] { return stack().gateway().log().find(last_request) != std::string::npos; }, 5s,
                         "the gateway to log the last request"));
  for (Process* process : {&stack().gateway(), &stack().events(), &stack().notify()}) {
    const std::string log = process->log();
    for (const auto& secret : secrets) {
      EXPECT_EQ(log.find(secret), std::string::npos) << process->program() << " logged a secret";
    }
  }
}

TEST_F(Operations, HealthCheckModeAsksTheRunningService) {
  for (const char* binary : {"calndro-events", "calndro-notify"}) {
    const auto result = run_command(bin_path(binary), {"--health-check"}, stack().env(), "", 20s);
    EXPECT_EQ(result.exit_code, 0) << binary << ": " << result.output();
    EXPECT_NE(result.output().find("SERVING"), std::string::npos) << result.output();
  }
  ASSERT_EQ(stack().notify().terminate(), 0) << stack().notify().log_tail();
  const auto down = run_command(bin_path("calndro-notify"), {"--health-check"}, stack().env(), "", 20s);
  EXPECT_EQ(down.exit_code, 1) << down.output();
  const auto usage = run_command(bin_path("calndro-events"), {"--bogus"}, stack().env(), "", 20s);
  EXPECT_EQ(usage.exit_code, 2) << usage.output();
}

TEST_F(Operations, SigtermStopsEveryProcessWithExitZero) {
  EXPECT_EQ(stack().gateway().terminate(), 0) << stack().gateway().log_tail();
  EXPECT_EQ(stack().events().terminate(), 0) << stack().events().log_tail();
  EXPECT_EQ(stack().notify().terminate(), 0) << stack().notify().log_tail();
  EXPECT_NE(stack().events().log_since_start().find("\"shutting down\""), std::string::npos);
}

// A PATCH waits on the event's row lock (held here by an open transaction)
// when SIGTERM arrives: the event service stops accepting new calls, lets the
// call in flight finish with its answer, and only then exits 0.
TEST_F(Operations, SigtermLetsTheCallInFlightFinish) {
  const json slots = {slot_json("2031-05-01T09:00:00Z", "01:00"), slot_json("2031-05-02T09:00:00Z", "01:00")};
  const std::string id = create_event(slots);
  ASSERT_FALSE(id.empty());

  pqxx::connection locker(stack().db().url());
  pqxx::work lock(locker);
  lock.exec("SELECT id FROM events.events WHERE id = " + id + " FOR UPDATE");

  std::optional<httplib::Result> patched;
  std::thread in_flight([&] {
    httplib::Client client = stack().http();
    client.set_read_timeout(30s);
    httplib::Headers headers = {{"Authorization", basic_auth(user_.email, user_.password)}};
    json body = {{"slots", json::array({slots[0]})}};
    patched = client.Patch(("/" + id + "/").c_str(), headers, body.dump(), "application/json");
  });
  // The PATCH is waiting on the lock once the database shows it waiting.
  EXPECT_TRUE(wait_until(
      [&] {
        return stack().db().scalar(
                   "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                   "AND datname = current_database()") != "0";
      },
      10s, "the PATCH to wait on the row lock"));

  const pid_t events_pid = stack().events().pid();
  ASSERT_EQ(::kill(events_pid, SIGTERM), 0);
  EXPECT_TRUE(wait_until(
      [&] { return stack().events().log_since_start().find("\"shutting down\"") != std::string::npos; }, 5s,
      "the event service to log that it is shutting down"))
      << stack().events().log_tail();
  // No new calls while it drains (health_of() gives UNKNOWN for a refused call).
  EXPECT_NE(health_of(stack().events_channel()), grpc::health::v1::HealthCheckResponse::SERVING)
      << "the event service still answers SERVING after SIGTERM";
  EXPECT_TRUE(stack().events().running()) << "the event service left before its call in flight finished";

  lock.commit();
  in_flight.join();
  ASSERT_TRUE(patched.has_value() && *patched) << "the PATCH in flight got no answer";
  EXPECT_EQ((*patched)->status, 202) << (*patched)->body;
  EXPECT_EQ(stack().events().terminate(), 0) << stack().events().log_tail();
  EXPECT_EQ(stack().db().scalar("SELECT json_array_length(slots) FROM events.events WHERE id = " + id), "1");
}

// SIGTERM reaches the notification service while its dispatcher has a mail in
// hand (the SMTP server holds its answer to DATA for two seconds): the mail
// is delivered and marked sent before the process exits 0.
TEST_F(Operations, SigtermLetsTheDispatcherFinishTheMailInHand) {
  SmtpSink slow(stack().dir() / "slow-mail", 0, 2000ms);
  Process& notify = stack().notify();
  const std::string normal_smtp = notify.env()["CALNDRO_SMTP_URL"];
  ASSERT_NO_FATAL_FAILURE(restart_with(notify, {{"CALNDRO_SMTP_URL", slow.url()}}));

  const json slots = json::array({slot_json("2031-06-01T09:00:00Z", "01:00")});
  const std::string id = create_event(slots);
  ASSERT_FALSE(id.empty());
  auto notified = post("/" + id + "/notify/", {{"parties", {user_.email}}, {"slots", slots}});
  ASSERT_TRUE(notified);
  ASSERT_EQ(notified->status, 202) << notified->body;

  // The mail is in hand once the sink has its DATA: the sink answers 2 s
  // later, so the row is not yet 'sent'.
  ASSERT_TRUE(wait_until([&] { return slow.log().find("\"data received\"") != std::string::npos; }, 10s,
                         "the dispatcher to send the mail's DATA"));
  EXPECT_EQ(stack().db().scalar("SELECT count(*) FROM notify.outbox WHERE event_id = " + id +
                                " AND state = 'sent'"),
            "0")
      << "the mail was sent before SIGTERM: the test proves nothing";
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(notify.terminate(20s), 0) << notify.log_tail();
  EXPECT_GE(std::chrono::steady_clock::now() - started, 500ms)
      << "the process did not wait for the mail in hand";
  EXPECT_EQ(stack().db().scalar("SELECT count(*) FROM notify.outbox WHERE event_id = " + id +
                                " AND state = 'sent'"),
            "1")
      << notify.log_tail();
  // The sink shows a mail shortly after it accepted it (tests/support/slow_mailbox.py).
  EXPECT_EQ(slow.wait_for_to(user_.email, 1, 10s).size(), 1u);

  notify.env()["CALNDRO_SMTP_URL"] = normal_smtp;
}

// CALNDRO_PURGE_INTERVAL_SECONDS=0 turns the event service's purge job off,
// as it does notify's (one rule for both): events starts, serves and says so.
TEST_F(Operations, PurgeIntervalZeroTurnsTheEventServicesPurgeOff) {
  Process& events = stack().events();
  ASSERT_NO_FATAL_FAILURE(restart_with(events, {{"CALNDRO_PURGE_INTERVAL_SECONDS", "0"}}));
  EXPECT_FALSE(create_event(json::array({slot_json("2031-07-01T09:00:00Z", "01:00")})).empty());
  EXPECT_NE(events.log().find("retention purge job off"), std::string::npos) << events.log_tail();
  EXPECT_EQ(events.terminate(), 0);
  events.env().erase("CALNDRO_PURGE_INTERVAL_SECONDS");
}

// The database refuses connections for a while (as during a restart): the
// event service's health turns NOT_SERVING, then SERVING again, and calls
// work again without restarting the service.
TEST_F(Operations, ReadinessFollowsTheDatabaseAndTheServiceReconnects) {
  const auto channel = stack().events_channel();
  ASSERT_TRUE(wait_for_health(channel, grpc::health::v1::HealthCheckResponse::SERVING, 10s));
  {
    pqxx::connection admin(Database::admin_url());
    pqxx::nontransaction sql(admin);
    const std::string name = sql.quote_name(stack().db().name());
    sql.exec("ALTER DATABASE " + name + " ALLOW_CONNECTIONS false");
    sql.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = " +
             sql.quote(stack().db().name()) + " AND pid <> pg_backend_pid()");
  }
  const bool went_down = wait_for_health(channel, grpc::health::v1::HealthCheckResponse::NOT_SERVING, 15s);
  auto during = post("/", {{"parties", {user_.email}}, {"slots", json::array()}});
  {
    pqxx::connection admin(Database::admin_url());
    pqxx::nontransaction sql(admin);
    sql.exec("ALTER DATABASE " + sql.quote_name(stack().db().name()) + " ALLOW_CONNECTIONS true");
  }
  EXPECT_TRUE(went_down) << stack().events().log_tail();
  ASSERT_TRUE(during);
  EXPECT_EQ(during->status, 503) << during->body;
  EXPECT_TRUE(wait_for_health(channel, grpc::health::v1::HealthCheckResponse::SERVING, 15s));
  auto after = post("/", {{"parties", {user_.email}}, {"slots", json::array()}});
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 201) << after->body;
}

// The lines between <!-- settings:begin --> and <!-- settings:end -->.
std::vector<std::string> settings_table_in(const std::string& path) {
  std::ifstream doc(path);
  std::vector<std::string> table;
  std::string line;
  bool inside = false;
  while (std::getline(doc, line)) {
    inside = inside && line != "<!-- settings:end -->";
    if (inside) {
      table.push_back(line);
    }
    inside = inside || line == "<!-- settings:begin -->";
  }
  return table;
}

// "" when equal, else the first line that differs.
std::string first_difference(const std::vector<std::string>& documented, const std::string& printed) {
  std::istringstream lines(printed);
  std::string line;
  std::size_t index = 0;
  while (std::getline(lines, line)) {
    if (index >= documented.size() || documented[index] != line) {
      return "line " + std::to_string(index + 1) + " of the table: documented\n  " +
             (index < documented.size() ? documented[index] : "(nothing)") + "\nprinted\n  " + line;
    }
    ++index;
  }
  return index == documented.size() ? "" : "the document has more lines, from " + documented[index];
}

// docs/OPERATIONS.md's table of settings is the one the binaries print.
TEST(SettingsDoc, OperationsMdHasTheTableTheBinariesPrint) {
  const std::vector<std::string> documented =
      settings_table_in(std::string(CALNDRO_SOURCE_DIR) + "/docs/OPERATIONS.md");
  ASSERT_FALSE(documented.empty())
      << "no <!-- settings:begin --> ... <!-- settings:end --> in docs/OPERATIONS.md";
  for (const char* binary : {"calndro-events", "calndro-notify", "calndro-gateway"}) {
    const auto printed = run_command(bin_path(binary), {"--print-settings-markdown"}, {}, "", 20s);
    ASSERT_EQ(printed.exit_code, 0) << binary << ": " << printed.output();
    EXPECT_EQ(first_difference(documented, printed.out), "")
        << "docs/OPERATIONS.md differs from " << binary
        << " --print-settings-markdown: run the command under \"Configuration variables\" there";
  }
}

// A value the table refuses stops each binary at once, naming the setting
// and what it allows; nothing else is needed to get there.
TEST(Settings, ARefusedValueStopsEachBinaryNamingTheSetting) {
  struct Case {
    const char* binary;
    std::vector<std::string> args;
    const char* name;
    const char* value;
    const char* allowed;
  };
  const Case cases[] = {
      {"calndro-events", {}, "CALNDRO_NOTIFY_ADDR", "off", "cannot be off for events"},
      {"calndro-events", {"--health-check"}, "CALNDRO_EVENTS_LISTEN", "50051", "`unix:path`"},
      {"calndro-events", {}, "CALNDRO_LOG_KEY_MISSING", "maybe", "must be `refuse` or `create`"},
      {"calndro-notify", {}, "CALNDRO_RETENTION_DAYS", "36500", "days from 1 to 3650"},
      {"calndro-notify", {}, "CALNDRO_DB_POOL_SIZE", "", "is empty"},
      {"calndro-notify", {}, "CALNDRO_DB_POOL_SIZE", "1", "must be more than CALNDRO_DISPATCH_WORKERS (1)"},
      {"calndro-gateway", {}, "CALNDRO_RPC_TIMEOUT_MS", "1", "milliseconds from 50 to 600000"},
      {"calndro-gateway", {}, "CALNDRO_PUBLIC_BASE_URL", "https://calndro.example.org/?x=1", "without query"},
      {"calndro-admin", {"user", "list"}, "CALNDRO_DATABASE_URL", "mysql://db/x", "PostgreSQL URI"},
  };
  for (const Case& c : cases) {
    const auto result = run_command(bin_path(c.binary), c.args, {{c.name, c.value}}, "", 20s);
    EXPECT_EQ(result.exit_code, 1) << c.binary << " " << c.name << "=" << c.value << ": " << result.output();
    const std::string stderr_line = std::string(c.name) + ": ";
    EXPECT_NE(result.err.find(stderr_line), std::string::npos) << c.binary << ": " << result.output();
    EXPECT_NE(result.err.find(c.allowed), std::string::npos) << c.binary << ": " << result.output();
  }
}

}  // namespace
