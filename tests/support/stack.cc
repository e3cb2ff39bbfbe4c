#include "support/stack.h"

#include <cstdlib>
#include <set>

#include <unistd.h>

#include <atomic>
#include <random>
#include <stdexcept>
#include <thread>

namespace calndro::testing {

namespace {

std::string random_token() {
  std::random_device rd;
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 40; ++i) {
    s += digits[rd() % 16];
  }
  return s;
}

std::string addr(int port) {
  return "127.0.0.1:" + std::to_string(port);
}

}  // namespace

std::string base64(const std::string& in) {
  static const char* chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int val = 0, bits = -6;
  for (unsigned char c : in) {
    val = (val << 8) + c;
    bits += 8;
    while (bits >= 0) {
      out.push_back(chars[(val >> bits) & 0x3F]);
      bits -= 6;
    }
  }
  if (bits > -6) {
    out.push_back(chars[((val << 8) >> (bits + 8)) & 0x3F]);
  }
  while (out.size() % 4) {
    out.push_back('=');
  }
  return out;
}

std::string basic_auth(const std::string& user, const std::string& password) {
  return "Basic " + base64(user + ":" + password);
}

StackOptions prompt_mail_options() {
  StackOptions options;
  options.notify = StackOptions::Notify::kRequired;
  options.env["CALNDRO_NOTIFY_RELAY_POLL_MS"] = "100";
  return options;
}

void wait_mail_settled(Stack& stack, const std::string& event_id) {
  for (int i = 0; i < 300; ++i) {
    const auto rows = stack.db().query(
        "SELECT (SELECT count(*) FROM events.pending_notifications WHERE state = 'pending' AND event_id = " +
        event_id +
        "), (SELECT count(*) FROM notify.outbox WHERE state = 'queued' AND event_id = " + event_id + ")");
    if (rows[0][0] == "0" && rows[0][1] == "0") {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ADD_FAILURE() << "mails of event " << event_id << " not settled in 30 s";
}

std::string unique_email(const std::string& prefix) {
  static std::atomic<int> counter{0};
  std::random_device rd;
  static const char* digits = "0123456789abcdef";
  std::string hex;
  for (int i = 0; i < 6; ++i) {
    hex += digits[rd() % 16];
  }
  return prefix + "." + std::to_string(++counter) + "." + hex + "@example.com";
}

namespace {

// n free ports, all different (free_port() may answer the same one twice).
std::vector<int> distinct_free_ports(size_t n) {
  std::set<int> taken;
  std::vector<int> ports;
  while (ports.size() < n) {
    const int port = free_port();
    if (taken.insert(port).second) {
      ports.push_back(port);
    }
  }
  return ports;
}

}  // namespace

Stack::Stack(StackOptions options) : options_(std::move(options)), dir_("calndro-stack") {
  db_ = std::make_unique<Database>();
  smtp_ = std::make_unique<SmtpSink>(dir_.path() / "mail");
  const auto ports = distinct_free_ports(8);
  http_port_ = ports[0];
  events_port_ = ports[1];
  notify_port_ = ports[2];
  events_metrics_port_ = ports[3];
  notify_metrics_port_ = ports[4];
  gateway_metrics_port_ = ports[5];
  events_replica_port_ = ports[6];
  notify_replica_port_ = ports[7];
  internal_token_ = random_token();
  if (options_.replicas == 0) {
    const char* replicas = std::getenv("CALNDRO_TEST_REPLICAS");
    options_.replicas = (replicas != nullptr && std::string(replicas) == "2") ? 2 : 1;
  }
  env_ = environment();
  create_processes();
  start_services();
}

Env Stack::environment() const {
  Env env = {
      {"CALNDRO_DATABASE_URL", db_->url()},
      {"CALNDRO_DB_POOL_SIZE", "4"},
      {"CALNDRO_EVENTS_PORT", std::to_string(events_port_)},
      {"CALNDRO_NOTIFY_PORT", std::to_string(notify_port_)},
      {"CALNDRO_HTTP_PORT", std::to_string(http_port_)},
      {"CALNDRO_EVENTS_LISTEN", addr(events_port_)},
      {"CALNDRO_NOTIFY_LISTEN", addr(notify_port_)},
      {"CALNDRO_HTTP_LISTEN", addr(http_port_)},
      {"CALNDRO_EVENTS_ADDR", addr(events_port_)},
      {"CALNDRO_NOTIFY_ADDR", addr(notify_port_)},
      {"CALNDRO_EVENTS_METRICS_LISTEN", addr(events_metrics_port_)},
      {"CALNDRO_NOTIFY_METRICS_LISTEN", addr(notify_metrics_port_)},
      {"CALNDRO_GATEWAY_METRICS_LISTEN", addr(gateway_metrics_port_)},
      {"CALNDRO_INTERNAL_TOKEN", internal_token_},
      {"CALNDRO_SMTP_URL", smtp_->url()},
      {"CALNDRO_RPC_TIMEOUT_MS", "5000"},
  };
  if (options_.replicas == 2) {
    env["CALNDRO_EVENTS_ADDR"] = addr(events_port_) + "," + addr(events_replica_port_);
    env["CALNDRO_NOTIFY_ADDR"] = addr(notify_port_) + "," + addr(notify_replica_port_);
  }
  for (const auto& [k, v] : options_.env) {
    env[k] = v;
  }
  return env;
}

void Stack::create_processes() {
  bool notify_built = ::access(bin_path("calndro-notify").c_str(), X_OK) == 0;
  bool want_notify = options_.notify == StackOptions::Notify::kRequired ||
                     (options_.notify == StackOptions::Notify::kIfBuilt && notify_built);
  if (want_notify) {
    notify_ = std::make_unique<Process>(bin_path("calndro-notify"), std::vector<std::string>{}, env_,
                                        dir_.path() / "notify.log");
  }
  events_ = std::make_unique<Process>(bin_path("calndro-events"), std::vector<std::string>{}, env_,
                                      dir_.path() / "events.log");
  if (options_.replicas == 2) {
    // Same database, same configuration; only the addresses they listen on differ.
    Env replica_env = env_;
    replica_env["CALNDRO_EVENTS_LISTEN"] = addr(events_replica_port_);
    replica_env["CALNDRO_NOTIFY_LISTEN"] = addr(notify_replica_port_);
    replica_env["CALNDRO_EVENTS_METRICS_LISTEN"] = "off";
    replica_env["CALNDRO_NOTIFY_METRICS_LISTEN"] = "off";
    events_replica_ = std::make_unique<Process>(bin_path("calndro-events"), std::vector<std::string>{},
                                                replica_env, dir_.path() / "events-2.log");
    if (notify_) {
      notify_replica_ = std::make_unique<Process>(bin_path("calndro-notify"), std::vector<std::string>{},
                                                  replica_env, dir_.path() / "notify-2.log");
    }
  }
  gateway_ = std::make_unique<Process>(bin_path("calndro-gateway"), std::vector<std::string>{}, env_,
                                       dir_.path() / "gateway.log");
}

Stack::~Stack() {
  for (auto* process : {&gateway_, &events_replica_, &events_, &notify_replica_, &notify_}) {
    if (*process) {
      (*process)->terminate();
    }
  }
}

void Stack::start_services() {
  if (notify_) {
    notify_->start();
    notify_->wait_port(notify_port_, 60s);
  }
  if (notify_replica_) {
    notify_replica_->start();
    notify_replica_->wait_port(notify_replica_port_, 60s);
  }
  events_->start();
  events_->wait_port(events_port_, 60s);
  if (events_replica_) {
    events_replica_->start();
    events_replica_->wait_port(events_replica_port_, 60s);
  }
  gateway_->start();
  gateway_->wait_port(http_port_, 60s);
  wait_gateway_ready();
}

void Stack::wait_gateway_ready() const {
  if (!notify_) {
    return;  // /readyz asks for both services
  }
  // A listening port is not enough after a restart: the gateway's channels
  // may still be backing off. Its /readyz asks both services over them.
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (true) {
    httplib::Client client = http();
    client.set_connection_timeout(2s);
    auto response = client.Get("/readyz");
    if (response && response->status == 200) {
      return;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("the gateway's /readyz is not 200 after 60 s: " +
                               (response ? response->body : std::string("no answer")));
    }
    std::this_thread::sleep_for(100ms);
  }
}

void Stack::restart_services() {
  for (auto* process : {&gateway_, &events_replica_, &events_, &notify_replica_, &notify_}) {
    if (*process) {
      (*process)->terminate();
    }
  }
  start_services();
}

void Stack::wait_ready() const {
  if (notify_) {
    notify_->wait_port(notify_port_, 60s);
  }
  if (notify_replica_) {
    notify_replica_->wait_port(notify_replica_port_, 60s);
  }
  events_->wait_port(events_port_, 60s);
  if (events_replica_) {
    events_replica_->wait_port(events_replica_port_, 60s);
  }
  gateway_->wait_port(http_port_, 60s);
  wait_gateway_ready();
}

Process& Stack::notify() {
  if (!notify_) {
    throw std::runtime_error("this stack runs without calndro-notify (not built?)");
  }
  return *notify_;
}

namespace {

std::unique_ptr<Stack>& shared_stack() {
  static std::unique_ptr<Stack> stack;
  return stack;
}

// Stops the shared stack when the tests are over, before static destruction
// (libpqxx's own statics are gone by then).
class SharedStackTeardown : public ::testing::Environment {
 public:
  void TearDown() override {
    shared_stack().reset();
    drop_created_databases();
  }
};
[[maybe_unused]] ::testing::Environment* const kTeardown =
    ::testing::AddGlobalTestEnvironment(new SharedStackTeardown);

}  // namespace

Stack& Stack::shared() {
  auto& stack = shared_stack();
  static std::string error;
  static bool tried = false;
  if (!tried) {
    tried = true;
    try {
      stack = std::make_unique<Stack>();
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  if (!stack) {
    throw std::runtime_error("the calndro test stack could not start: " + error);
  }
  return *stack;
}

httplib::Client Stack::http() const {
  httplib::Client c("127.0.0.1", http_port_);
  c.set_connection_timeout(5, 0);
  c.set_read_timeout(30, 0);
  c.set_write_timeout(30, 0);
  c.set_follow_location(false);
  return c;
}

std::shared_ptr<grpc::Channel> Stack::events_channel() const {
  return grpc::CreateChannel(addr(events_port_), grpc::InsecureChannelCredentials());
}

std::shared_ptr<grpc::Channel> Stack::notify_channel() const {
  return grpc::CreateChannel(addr(notify_port_), grpc::InsecureChannelCredentials());
}

CommandResult Stack::admin(const std::vector<std::string>& args, const std::string& stdin_data) const {
  return run_command(bin_path("calndro-admin"), args, Env{{"CALNDRO_DATABASE_URL", db_->url()}}, stdin_data,
                     120s);
}

User Stack::create_user(const std::string& email, const std::string& password, bool staff, bool inactive,
                        const std::string& username) {
  std::vector<std::string> args{"user", "add", email};
  if (!username.empty()) {
    args.insert(args.end(), {"--username", username});
  }
  if (staff) {
    args.push_back("--staff");
  }
  if (inactive) {
    args.push_back("--inactive");
  }
  std::string in;
  if (!password.empty()) {
    args.push_back("--password-stdin");
    in = password + "\n";
  }
  CommandResult r = admin(args, in);
  if (r.exit_code != 0) {
    std::string cmd = "calndro-admin";
    for (const auto& a : args) {
      cmd += " " + a;
    }
    throw std::runtime_error(cmd + " failed with exit code " + std::to_string(r.exit_code) + ":\n" +
                             r.output());
  }
  return User{email, username, password};
}

void StackTest::SetUp() {
  try {
    stack_ = &Stack::shared();
    prepare();
  } catch (const std::exception& e) {
    GTEST_FAIL() << e.what();
  }
}

}  // namespace calndro::testing
