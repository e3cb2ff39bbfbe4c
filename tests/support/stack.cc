#include "support/stack.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <random>
#include <stdexcept>

#include "support/wait.h"

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

StackOptions prompt_mail_options(const Env& env) {
  StackOptions options;
  options.notify = StackOptions::Notify::kRequired;
  options.env = env;
  options.env.emplace("CALNDRO_NOTIFY_RELAY_POLL_MS", "100");
  return options;
}

void wait_mail_settled(Stack& stack, const std::string& event_id) {
  EXPECT_TRUE(wait_until(
      [&] {
        const auto rows = stack.db().query(
            "SELECT (SELECT count(*) FROM events.pending_notifications WHERE state = 'pending' AND event_id "
            "= " +
            event_id +
            "), (SELECT count(*) FROM notify.outbox WHERE state = 'queued' AND event_id = " + event_id + ")");
        return rows[0][0] == "0" && rows[0][1] == "0";
      },
      30s, "the mails of event " + event_id + " to leave both outboxes"));
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

// One port a process listens on: the variable that names its address, the
// log line that reports it, and where the stack keeps it (0 until known).
struct Listener {
  const char* variable;
  const char* message;
  int* port;
};

// Starts `process`. A listener whose port is still 0 listens where the
// kernel chooses and the port is read back from the process's log; from
// then on the process's environment names that port, so that a restart (by
// the stack or by a test) listens where its peers already look for it.
void launch(Process& process, const std::vector<Listener>& listeners) {
  for (const Listener& listener : listeners) {
    process.env()[listener.variable] = loopback(*listener.port);
  }
  process.start();
  for (const Listener& listener : listeners) {
    if (*listener.port == 0) {
      *listener.port = process.wait_reported_port(listener.message, 60s);
      process.env()[listener.variable] = loopback(*listener.port);
    } else {
      process.wait_port(*listener.port, 60s);
    }
  }
}

std::string addresses(const std::vector<int>& ports) {
  std::string out;
  for (const int port : ports) {
    out += (out.empty() ? "" : ",") + loopback(port);
  }
  return out;
}

}  // namespace

Stack::Stack(StackOptions options) : options_(std::move(options)), dir_("calndro-stack") {
  db_ = std::make_unique<Database>();
  smtp_ = std::make_unique<SmtpSink>(dir_.path() / "mail");
  internal_token_ = random_token();
  if (options_.replicas == 0) {
    const char* replicas = std::getenv("CALNDRO_TEST_REPLICAS");
    options_.replicas = (replicas != nullptr && std::string(replicas) == "2") ? 2 : 1;
  }
  env_ = environment();
  create_processes();
  start_services();
}

// Every process listens on port 0 at first (the kernel chooses) and learns
// its peers' addresses as they start: start_services() fills them in.
Env Stack::environment() const {
  Env env = {
      {"CALNDRO_DATABASE_URL", db_->url()},
      {"CALNDRO_DB_POOL_SIZE", "4"},
      {"CALNDRO_EVENTS_LISTEN", loopback(0)},
      {"CALNDRO_NOTIFY_LISTEN", loopback(0)},
      {"CALNDRO_HTTP_LISTEN", loopback(0)},
      {"CALNDRO_EVENTS_METRICS_LISTEN", loopback(0)},
      {"CALNDRO_NOTIFY_METRICS_LISTEN", loopback(0)},
      {"CALNDRO_GATEWAY_METRICS_LISTEN", loopback(0)},
      {"CALNDRO_INTERNAL_TOKEN", internal_token_},
      {"CALNDRO_SMTP_URL", smtp_->url()},
      {"CALNDRO_RPC_TIMEOUT_MS", "5000"},
      // The outbox leases' owner; by default host and port, and every
      // replica's configured port is 0 here.
      {"CALNDRO_REPLICA_ID", "notify-1"},
      // One key for the stack's replicas, made by the first to start.
      {"CALNDRO_LOG_KEY_FILE", log_key_file().string()},
      {"CALNDRO_LOG_KEY_MISSING", "create"},
      // The key of the webhooks' secrets, one for the notify replicas.
      {"CALNDRO_WEBHOOK_KEY_FILE", (dir_.path() / "webhook-secrets.key").string()},
      {"CALNDRO_WEBHOOK_KEY_MISSING", "create"},
      // Webhook receivers in tests listen on the loopback.
      {"CALNDRO_WEBHOOK_ALLOW", "127.0.0.1/32"},
  };
  for (const auto& [k, v] : options_.env) {
    env[k] = v;
  }
  return env;
}

void Stack::create_processes() {
  bool notify_built = ::access(bin_path("calndro-notify").c_str(), X_OK) == 0;
  bool want_notify = options_.notify == StackOptions::Notify::kRequired ||
                     (options_.notify == StackOptions::Notify::kIfBuilt && notify_built);
  Env services_env = env_;
  services_env["CALNDRO_PUBLIC_BASE_URL"] = link_base();
  if (want_notify) {
    notify_ = std::make_unique<Process>(bin_path("calndro-notify"), std::vector<std::string>{}, services_env,
                                        dir_.path() / "notify.log");
  } else {
    no_notify_ = std::make_unique<ClosedPort>();
  }
  events_ = std::make_unique<Process>(bin_path("calndro-events"), std::vector<std::string>{}, services_env,
                                      dir_.path() / "events.log");
  if (options_.replicas == 2) {
    // Same database, same configuration; only the addresses they listen on differ.
    Env replica_env = services_env;
    replica_env["CALNDRO_EVENTS_METRICS_LISTEN"] = "off";
    replica_env["CALNDRO_NOTIFY_METRICS_LISTEN"] = "off";
    replica_env["CALNDRO_REPLICA_ID"] = "notify-2";
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

std::string Stack::link_base() const {
  const auto configured = options_.env.find("CALNDRO_PUBLIC_BASE_URL");
  std::string base = configured != options_.env.end() ? configured->second : "http://links.calndro.test:9000";
  while (base.ends_with('/')) {
    base.pop_back();
  }
  return base;
}

void Stack::set_everywhere(const std::string& variable, const std::string& value) {
  env_[variable] = value;
  for (auto* process : {&gateway_, &events_replica_, &events_, &notify_replica_, &notify_}) {
    if (*process) {
      (*process)->env()[variable] = value;
    }
  }
}

// Notify first, then events (which needs notify's addresses), then the
// gateway (which needs both).
void Stack::start_services() {
  // Where a first replica listens is the stack's address for it (env()).
  const auto launch_primary = [this](Process& process, const std::vector<Listener>& listeners) {
    launch(process, listeners);
    for (const Listener& listener : listeners) {
      env_[listener.variable] = loopback(*listener.port);
    }
  };
  if (notify_) {
    launch_primary(*notify_, {{"CALNDRO_NOTIFY_LISTEN", "serving", &notify_port_},
                              {"CALNDRO_NOTIFY_METRICS_LISTEN", "metrics served", &notify_metrics_port_}});
  }
  if (notify_replica_) {
    launch(*notify_replica_, {{"CALNDRO_NOTIFY_LISTEN", "serving", &notify_replica_port_}});
  }
  std::vector<int> notify_ports{notify_ ? notify_port_ : no_notify_->port()};
  if (notify_replica_) {
    notify_ports.push_back(notify_replica_port_);
  }
  set_everywhere("CALNDRO_NOTIFY_ADDR", addresses(notify_ports));

  launch_primary(*events_, {{"CALNDRO_EVENTS_LISTEN", "serving", &events_port_},
                            {"CALNDRO_EVENTS_METRICS_LISTEN", "metrics served", &events_metrics_port_}});
  std::vector<int> events_ports{events_port_};
  if (events_replica_) {
    launch(*events_replica_, {{"CALNDRO_EVENTS_LISTEN", "serving", &events_replica_port_}});
    events_ports.push_back(events_replica_port_);
  }
  set_everywhere("CALNDRO_EVENTS_ADDR", addresses(events_ports));

  launch_primary(*gateway_, {{"CALNDRO_HTTP_LISTEN", "listening", &http_port_},
                             {"CALNDRO_GATEWAY_METRICS_LISTEN", "metrics served", &gateway_metrics_port_}});
  wait_gateway_ready();
}

void Stack::wait_gateway_ready() const {
  if (!notify_) {
    return;  // /readyz asks for both services
  }
  // A listening port is not enough after a restart: the gateway's channels
  // may still be backing off. Its /readyz asks both services over them.
  std::string answer = "no answer";
  const auto ready = wait_until(
      [&] {
        httplib::Client client = http();
        client.set_connection_timeout(2s);
        auto response = client.Get("/readyz");
        answer = response ? response->body : std::string("no answer");
        return response && response->status == 200;
      },
      60s, "the gateway's /readyz to be 200");
  if (!ready) {
    throw std::runtime_error(std::string(ready.message()) + "; it answered: " + answer);
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

void Stack::revive() {
  bool stopped = false;
  for (auto* process : {&notify_, &notify_replica_, &events_, &events_replica_, &gateway_}) {
    if (*process && !(*process)->running()) {
      (*process)->start();
      stopped = true;
    }
  }
  if (stopped) {
    wait_ready();
  }
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

void Stack::require_notify(const std::string& why) const {
  if (!notify_) {
    throw std::runtime_error("calndro-notify is not built: " + why);
  }
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
  return grpc::CreateChannel(loopback(events_port_), grpc::InsecureChannelCredentials());
}

std::shared_ptr<grpc::Channel> Stack::notify_channel() const {
  return grpc::CreateChannel(loopback(notify_port_), grpc::InsecureChannelCredentials());
}

CommandResult Stack::admin(const std::vector<std::string>& args, const std::string& stdin_data) const {
  return run_command(
      bin_path("calndro-admin"), args,
      Env{{"CALNDRO_DATABASE_URL", db_->url()}, {"CALNDRO_LOG_KEY_FILE", log_key_file().string()}},
      stdin_data, 120s);
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
    stack_->revive();
    prepare();
  } catch (const std::exception& e) {
    GTEST_FAIL() << e.what();
  }
}

}  // namespace calndro::testing
