// How the processes talk to each other: the internal credential beyond
// loopback, TLS between the services (and from the gateway), and the gRPC
// message and metadata limits (long list pages, many field violations).
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/client_unary_call.h>
#include <grpcpp/impl/codegen/sync_stream.h>
#include <gtest/gtest.h>

#include <unistd.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <regex>

#include "calndro/events/v1/events.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "support/http_call.h"
#include "support/reflection.h"
#include "support/stack.h"

using namespace calndro::testing;
using json = nlohmann::json;
namespace ev1 = calndro::events::v1;

namespace {

std::string addr(int port) {
  return "127.0.0.1:" + std::to_string(port);
}

// 64 random-looking hex characters, as `openssl rand -hex 32` makes them.
std::string long_random_token() {
  std::string token;
  std::random_device random;
  for (int i = 0; i < 64; ++i) {
    token += "0123456789abcdef"[random() % 16];
  }
  return token;
}

// --- The internal credential beyond loopback ---

struct Service {
  const char* binary;
  const char* listen_variable;
};
const Service kServices[] = {{"calndro-notify", "CALNDRO_NOTIFY_LISTEN"},
                             {"calndro-events", "CALNDRO_EVENTS_LISTEN"}};

// Listening beyond loopback on a port the kernel chooses; a notification
// service that never answers.
// `dir`: where the event service makes its log signing key, and the
// notification service its webhook key.
Env service_env(const Database& db, const Service& service, const ClosedPort& no_notify, const TempDir& dir) {
  return {{"CALNDRO_DATABASE_URL", db.url()},
          {service.listen_variable, "0.0.0.0:0"},
          {"CALNDRO_EVENTS_METRICS_LISTEN", "off"},
          {"CALNDRO_NOTIFY_METRICS_LISTEN", "off"},
          {"CALNDRO_NOTIFY_ADDR", addr(no_notify.port())},
          {"CALNDRO_LOG_KEY_FILE", (dir.path() / "log-signing.key").string()},
          {"CALNDRO_LOG_KEY_MISSING", "create"},
          {"CALNDRO_WEBHOOK_KEY_FILE", (dir.path() / "webhook-secrets.key").string()},
          {"CALNDRO_WEBHOOK_KEY_MISSING", "create"}};
}

TEST(InternalCredential, RefusedBeyondLoopbackWhenDefaultShortOrMissing) {
  Database db;
  TempDir dir("calndro-internal");
  const ClosedPort no_notify;
  for (const Service& service : kServices) {
    for (const char* token : {"", "calndro-local-internal", "too-short"}) {
      SCOPED_TRACE(std::string(service.binary) + " with CALNDRO_INTERNAL_TOKEN='" + token + "'");
      Env env = service_env(db, service, no_notify, dir);
      env["CALNDRO_INTERNAL_TOKEN"] = token;
      const auto started = std::chrono::steady_clock::now();
      // Before the check, the service would have started and served: the
      // command would not finish within the timeout.
      CommandResult result;
      ASSERT_NO_THROW(result = run_command(bin_path(service.binary), {}, env, "", 15s));
      EXPECT_NE(result.exit_code, 0) << result.output();
      EXPECT_NE(result.output().find("CALNDRO_INTERNAL_TOKEN must be a secret of at least 32 characters"),
                std::string::npos)
          << result.output();
      EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
    }
  }
}

TEST(InternalCredential, ALongSecretStartsBeyondLoopback) {
  Database db;
  TempDir dir("calndro-internal");
  const ClosedPort no_notify;
  for (const Service& service : kServices) {
    SCOPED_TRACE(service.binary);
    Env env = service_env(db, service, no_notify, dir);
    env["CALNDRO_INTERNAL_TOKEN"] = long_random_token();
    Process process(bin_path(service.binary), {}, env, dir.path() / (std::string(service.binary) + ".log"));
    process.start();
    int port = 0;
    ASSERT_NO_THROW(port = process.wait_reported_port("serving"));
    EXPECT_TRUE(port_accepts(port));
    EXPECT_EQ(process.terminate(), 0) << process.log_tail();
  }
}

TEST(InternalCredential, TheDefaultStillServesOnLoopback) {
  Database db;
  TempDir dir("calndro-internal");
  Process notify(bin_path("calndro-notify"), {},
                 {{"CALNDRO_DATABASE_URL", db.url()},
                  {"CALNDRO_NOTIFY_LISTEN", addr(0)},
                  {"CALNDRO_NOTIFY_METRICS_LISTEN", "off"},
                  {"CALNDRO_WEBHOOK_KEY_FILE", (dir.path() / "webhook-secrets.key").string()},
                  {"CALNDRO_WEBHOOK_KEY_MISSING", "create"}},
                 dir.path() / "notify.log");
  notify.start();
  int port = 0;
  ASSERT_NO_THROW(port = notify.wait_reported_port("serving"));
  EXPECT_TRUE(port_accepts(port));
  EXPECT_EQ(notify.terminate(), 0) << notify.log_tail();
}

// --- HTTP helpers ---

using Resp = HttpReply;

Resp call(Stack& stack, const std::string& method, const std::string& path, const User& user,
          const std::optional<json>& body = std::nullopt) {
  return http_call(stack, {method, path, basic_auth(user.email, user.password), json_body(body), {}});
}

json three_slots() {
  return json::array({{{"begin", "2030-01-01T09:00:00Z"}, {"duration", "01:00:00"}},
                      {{"begin", "2030-01-02T09:00:00Z"}, {"duration", "01:00:00"}},
                      {{"begin", "2030-01-03T09:00:00Z"}, {"duration", "01:00:00"}}});
}

// The path+query of Link rel="next", "" when absent.
std::string next_link(const Resp& r) {
  const std::string link = r.header("Link");
  std::smatch m;
  if (!std::regex_search(link, m, std::regex(R"re(<([^>]*)>\s*;\s*rel="?next"?)re"))) {
    return "";
  }
  std::string url = m[1];
  const auto scheme = url.find("://");
  if (scheme != std::string::npos) {
    const auto slash = url.find('/', scheme + 3);
    url = slash == std::string::npos ? "/" : url.substr(slash);
  }
  return url;
}

// --- TLS between the services ---

// A CA, a certificate for the services (localhost and 127.0.0.1) and one
// for a client, made with the openssl command line.
class Certificates {
 public:
  Certificates() {
    const char* search = std::getenv("PATH");
    const std::string directories = search != nullptr ? search : "/usr/bin:/bin";
    for (std::size_t start = 0; start <= directories.size() && openssl_.empty();) {
      const auto end = std::min(directories.find(':', start), directories.size());
      const std::filesystem::path candidate =
          std::filesystem::path(directories.substr(start, end - start)) / "openssl";
      if (::access(candidate.c_str(), X_OK) == 0) {
        openssl_ = candidate.string();
      }
      start = end + 1;
    }
    if (openssl_.empty()) {
      throw std::runtime_error("the openssl command is needed (deploy/install-deps.sh installs it)");
    }
    openssl({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=calndro test CA",
             "-keyout", path("ca.key"), "-out", path("ca.pem")});
    issue("server", "subjectAltName=DNS:localhost,IP:127.0.0.1");
    issue("client", "subjectAltName=DNS:calndro-gateway");
    // Signed by nobody the services trust.
    openssl({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=stranger",
             "-keyout", path("stranger.key"), "-out", path("stranger.pem")});
  }
  std::string path(const std::string& name) const { return (dir_.path() / name).string(); }
  std::string read(const std::string& name) const { return read_file(dir_.path() / name); }

 private:
  void openssl(const std::vector<std::string>& args) const {
    const CommandResult result = run_command(openssl_, args);
    if (result.exit_code != 0) {
      throw std::runtime_error("openssl failed: " + result.output());
    }
  }
  void issue(const std::string& name, const std::string& san) const {
    std::ofstream(path(name + ".ext")) << san << "\n";
    openssl({"req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + name, "-keyout", path(name + ".key"),
             "-out", path(name + ".csr")});
    openssl({"x509", "-req", "-in", path(name + ".csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"),
             "-CAcreateserial", "-days", "2", "-extfile", path(name + ".ext"), "-out", path(name + ".pem")});
  }
  TempDir dir_{"calndro-certs"};
  std::string openssl_;
};

grpc::Status health_check(const std::shared_ptr<grpc::ChannelCredentials>& credentials, int port) {
  grpc::ChannelArguments arguments;
  arguments.SetSslTargetNameOverride("localhost");
  auto stub =
      grpc::health::v1::Health::NewStub(grpc::CreateCustomChannel(addr(port), credentials, arguments));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  return stub->Check(&context, request, &response);
}

// Create and notify through the gateway: gateway -> events -> notify.
void create_and_notify(Stack& stack) {
  const User alice = stack.create_user(unique_email("alice"), "alice-Pass-1");
  const std::string guest = unique_email("guest");
  const Resp created =
      call(stack, "POST", "/", alice, json{{"parties", {alice.email, guest}}, {"slots", three_slots()}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = std::to_string(json::parse(created.body)["id"].get<long long>());
  const Resp notified =
      call(stack, "POST", "/" + id + "/notify/", alice, json{{"parties", {guest}}, {"slots", three_slots()}});
  ASSERT_GE(notified.status, 200) << notified.body;
  ASSERT_LT(notified.status, 300) << notified.body;
  EXPECT_EQ(stack.smtp().wait_for_to(guest, 1).size(), 1u);
}

// A stack of `replicas` whose gRPC services require mutual TLS with `certs`.
StackOptions mutual_tls_stack(const Certificates& certs, int replicas) {
  StackOptions options;
  options.replicas = replicas;
  options.notify = StackOptions::Notify::kRequired;
  options.env = {{"CALNDRO_GRPC_TLS_CERT", certs.path("server.pem")},
                 {"CALNDRO_GRPC_TLS_KEY", certs.path("server.key")},
                 {"CALNDRO_GRPC_TLS_CA", certs.path("ca.pem")}};
  return options;
}

TEST(Tls, MutualTlsEndToEndAndPlaintextRefused) {
  Certificates certs;
  Stack stack(mutual_tls_stack(certs, 1));
  create_and_notify(stack);

  for (const int port : {stack.events_port(), stack.notify_port()}) {
    SCOPED_TRACE("port " + std::to_string(port));
    // Plaintext is refused.
    EXPECT_EQ(health_check(grpc::InsecureChannelCredentials(), port).error_code(),
              grpc::StatusCode::UNAVAILABLE);
    // TLS without a client certificate is refused (mutual TLS).
    grpc::SslCredentialsOptions anonymous;
    anonymous.pem_root_certs = certs.read("ca.pem");
    EXPECT_FALSE(health_check(grpc::SslCredentials(anonymous), port).ok());
    // A client certificate from another issuer is refused.
    grpc::SslCredentialsOptions stranger = anonymous;
    stranger.pem_cert_chain = certs.read("stranger.pem");
    stranger.pem_private_key = certs.read("stranger.key");
    EXPECT_FALSE(health_check(grpc::SslCredentials(stranger), port).ok());
    // A certificate the CA signed: health answers over TLS.
    grpc::SslCredentialsOptions client = anonymous;
    client.pem_cert_chain = certs.read("client.pem");
    client.pem_private_key = certs.read("client.key");
    const grpc::Status status = health_check(grpc::SslCredentials(client), port);
    EXPECT_TRUE(status.ok()) << status.error_message();
    // Reflection too.
    grpc::ChannelArguments arguments;
    arguments.SetSslTargetNameOverride("localhost");
    const std::string listing =
        list_services(grpc::CreateCustomChannel(addr(port), grpc::SslCredentials(client), arguments));
    EXPECT_NE(listing.find("grpc.health.v1.Health"), std::string::npos);
  }
  // The binaries' own health probe speaks TLS too.
  for (const char* binary : {"calndro-events", "calndro-notify"}) {
    const CommandResult probe = run_command(bin_path(binary), {"--health-check"}, stack.env(), "", 20s);
    EXPECT_EQ(probe.exit_code, 0) << binary << ": " << probe.output();
  }
}

// A list of replica addresses names no host to check: the configured
// server name stands in for it.
TEST(Tls, ReplicaListsWithAServerName) {
  Certificates certs;
  StackOptions options = mutual_tls_stack(certs, 2);
  options.env["CALNDRO_GRPC_TLS_SERVER_NAME"] = "localhost";
  Stack stack(options);
  ASSERT_EQ(stack.replicas(), 2);
  for (int i = 0; i < 3; ++i) {
    create_and_notify(stack);
  }
  // Without the name, the gateway and the event service refuse to start.
  Env env = stack.env();
  env.erase("CALNDRO_GRPC_TLS_SERVER_NAME");
  env["CALNDRO_HTTP_LISTEN"] = addr(0);
  env["CALNDRO_EVENTS_LISTEN"] = addr(0);
  env["CALNDRO_EVENTS_METRICS_LISTEN"] = "off";
  for (const char* binary : {"calndro-gateway", "calndro-events"}) {
    CommandResult result;
    ASSERT_NO_THROW(result = run_command(bin_path(binary), {}, env, "", 30s)) << binary;
    EXPECT_NE(result.exit_code, 0) << binary << ": " << result.output();
    EXPECT_NE(result.output().find("CALNDRO_GRPC_TLS_SERVER_NAME"), std::string::npos)
        << binary << ": " << result.output();
  }
}

TEST(Tls, BadFilesStopTheStartWithTheVariablesName) {
  Certificates certs;
  Database db;
  struct Case {
    const char* binary;
    Env env;
    const char* variable;
  };
  const Case cases[] = {
      {"calndro-events",
       {{"CALNDRO_GRPC_TLS_CERT", "/nonexistent/cert.pem"},
        {"CALNDRO_GRPC_TLS_KEY", certs.path("server.key")}},
       "CALNDRO_GRPC_TLS_CERT"},
      {"calndro-notify",
       {{"CALNDRO_GRPC_TLS_CERT", certs.path("server.pem")},
        {"CALNDRO_GRPC_TLS_KEY", certs.path("server.pem")}},
       "CALNDRO_GRPC_TLS_KEY"},
      {"calndro-gateway", {{"CALNDRO_GRPC_TLS_CA", "/nonexistent/ca.pem"}}, "CALNDRO_GRPC_TLS_CA"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.binary);
    Env env = c.env;
    env["CALNDRO_DATABASE_URL"] = db.url();
    env["CALNDRO_EVENTS_LISTEN"] = addr(0);
    env["CALNDRO_NOTIFY_LISTEN"] = addr(0);
    env["CALNDRO_HTTP_LISTEN"] = addr(0);
    env["CALNDRO_EVENTS_METRICS_LISTEN"] = "off";
    env["CALNDRO_NOTIFY_METRICS_LISTEN"] = "off";
    CommandResult result;
    ASSERT_NO_THROW(result = run_command(bin_path(c.binary), {}, env, "", 15s));
    EXPECT_NE(result.exit_code, 0) << result.output();
    EXPECT_NE(result.output().find(c.variable), std::string::npos) << result.output();
  }
}

// --- Limits: long list pages, many field violations ---

class Limits : public StackTest {};

// 254 characters, the longest address SPEC allows, unique by `n`.
std::string longest_email(int n) {
  std::string local = "p" + std::to_string(n) + "-" + unique_email("x").substr(0, 20);
  for (char& c : local) {
    if (c == '@' || c == '.') {
      c = 'x';
    }
  }
  local.resize(64, 'a');
  return local + "@" + std::string(63, 'b') + "." + std::string(63, 'c') + "." + std::string(57, 'd') +
         ".com";
}

TEST_F(Limits, AListPageOfLongEventsEndsEarlyAndContinues) {
  const User owner = stack().create_user(unique_email("lister"), "lister-Pass-1");
  std::vector<std::string> parties{owner.email};
  for (int i = 1; i < 100; ++i) {
    parties.push_back(longest_email(i));
  }
  ASSERT_EQ(parties[1].size(), 254u);
  // 100 parties of 254 characters make an event of about 26 KB: 170 of them
  // are more than a 4 MiB message.
  constexpr int kEvents = 170;
  std::vector<long long> ids;
  for (int i = 0; i < kEvents; ++i) {
    const Resp r = call(stack(), "POST", "/", owner, json{{"parties", parties}, {"slots", three_slots()}});
    ASSERT_EQ(r.status, 201) << r.body.substr(0, 500);
    ids.push_back(json::parse(r.body)["id"].get<long long>());
  }

  // gRPC, with a client of gRPC's default limits (4 MiB to receive).
  auto stub = ev1::EventService::NewStub(stack().events_channel());
  std::vector<long long> seen;
  std::string token;
  int pages = 0;
  do {
    grpc::ClientContext context;
    context.AddMetadata("authorization", basic_auth(owner.email, owner.password));
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    ev1::ListEventsRequest request;
    request.set_page_size(1000);
    request.set_page_token(token);
    ev1::ListEventsResponse response;
    const grpc::Status status = stub->ListEvents(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
    EXPECT_LT(response.ByteSizeLong(), 4u * 1024 * 1024);
    for (const auto& event : response.events()) {
      seen.push_back(event.id());
    }
    if (pages == 0) {
      EXPECT_LT(response.events_size(), kEvents) << "the first page was not cut short";
      EXPECT_FALSE(response.next_page_token().empty());
    }
    token = response.next_page_token();
  } while (!token.empty() && ++pages < 10);
  EXPECT_EQ(seen, ids);

  // HTTP, following Link: rel="next".
  std::vector<long long> listed;
  std::string path = "/?limit=1000";
  for (int page = 0; page < 10 && !path.empty(); ++page) {
    const Resp r = call(stack(), "GET", path, owner);
    ASSERT_EQ(r.status, 200) << r.body.substr(0, 500);
    for (const auto& event : json::parse(r.body)) {
      listed.push_back(event["id"].get<long long>());
    }
    if (page == 0) {
      EXPECT_FALSE(next_link(r).empty()) << "no Link rel=next on a page cut short";
    }
    path = next_link(r);
  }
  EXPECT_EQ(listed, ids);
}

TEST_F(Limits, HundredsOfFieldViolationsAnswerACleanBadRequest) {
  const User user = stack().create_user(unique_email("violator"), "violator-Pass-1");
  json parties = json::array();
  for (int i = 0; i < 100; ++i) {
    parties.push_back("not an address number " + std::to_string(i) + " " + std::string(200, 'x'));
  }
  // Well-formed JSON the gateway maps as it is: the event service finds the
  // violations, and they travel back in the gRPC trailer.
  const Resp r = call(stack(), "POST", "/", user,
                      json{{"title", std::string(300, 't')}, {"parties", parties}, {"slots", three_slots()}});
  ASSERT_EQ(r.status, 400) << r.body.substr(0, 1000);
  const json body = json::parse(r.body);
  ASSERT_TRUE(body.contains("parties")) << r.body.substr(0, 1000);
  std::size_t entries = 0;
  for (const auto& [field, messages] : body.items()) {
    entries += messages.size();
  }
  EXPECT_LE(entries, 31u) << r.body.substr(0, 1000);
  EXPECT_NE(r.body.find("more."), std::string::npos) << r.body.substr(0, 1000);
}

}  // namespace
