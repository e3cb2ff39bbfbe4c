#pragma once

// The whole calndro stack for an integration test: a fresh database, an SMTP
// sink, calndro-notify, calndro-events and calndro-gateway, with the
// environment that docs/ARCHITECTURE.md documents. Each process listens on a
// port the kernel chooses (it is told port 0 and logs which port it got), so
// stacks started side by side never race for a port. Stack::shared() starts
// one stack per test binary on first use; tests use fresh emails
// (unique_email()) and events so they never interfere.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/harness.h"
#include "support/mail.h"

namespace calndro::testing {

struct User {
  std::string email;
  std::string username;  // "" when none was given
  std::string password;  // "" for an inactive user made without one
};

struct StackOptions {
  // Laid over the stack's own environment, for every process.
  Env env;
  enum class Notify { kIfBuilt, kRequired, kNone };
  // kIfBuilt: start calndro-notify when the binary exists.
  Notify notify = Notify::kIfBuilt;
  // Replicas of each service (1 or 2). Two replicas of the event service sit
  // behind the gateway's round_robin client, and two of the notification
  // service behind the event service's: the scale-out model of
  // docs/OPERATIONS.md. Defaults to $CALNDRO_TEST_REPLICAS, else 1.
  int replicas = 0;
};

class Stack {
 public:
  explicit Stack(StackOptions options = {});
  ~Stack();
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  // One stack per test binary, started on first use. Throws (again on every
  // call) when it could not start.
  static Stack& shared();

  Database& db() { return *db_; }
  SmtpSink& smtp() { return *smtp_; }
  Process& events() { return *events_; }
  Process& gateway() { return *gateway_; }
  const Process& gateway() const { return *gateway_; }
  int replicas() const { return events_replica_ ? 2 : 1; }
  // The second replicas (nullptr with one replica).
  Process* events_replica() { return events_replica_.get(); }
  Process* notify_replica() { return notify_replica_.get(); }
  // Throws when the stack runs without calndro-notify.
  Process& notify();
  bool has_notify() const { return notify_ != nullptr; }
  // Throws "calndro-notify is not built: <why>" when the stack runs without
  // it: for a fixture's prepare(), where an exception fails the test.
  void require_notify(const std::string& why) const;

  int http_port() const { return http_port_; }
  int events_port() const { return events_port_; }
  int notify_port() const { return notify_port_; }
  // Prometheus text at GET /metrics.
  int events_metrics_port() const { return events_metrics_port_; }
  int notify_metrics_port() const { return notify_metrics_port_; }
  // The gateway's /metrics (never on the public port).
  int gateway_metrics_port() const { return gateway_metrics_port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(http_port_); }
  // The base of links in mails and of the URL in event.ics: notify's and
  // events' CALNDRO_PUBLIC_BASE_URL (StackOptions::env's, else a name that is
  // not base_url(), where the gateway, with none, answers after the Host):
  // a mail's link never follows the Host a request came with.
  std::string link_base() const;
  const std::string& internal_token() const { return internal_token_; }
  // The environment every process got (database URL, ports, token, ...).
  const Env& env() const { return env_; }
  const std::filesystem::path& dir() const { return dir_.path(); }
  // The key that signs the log heads (CALNDRO_LOG_KEY_FILE), made by the
  // event service at its first start.
  std::filesystem::path log_key_file() const { return dir_.path() / "log-signing.key"; }

  // A client for the gateway (no keep-alive surprises: one per call site).
  httplib::Client http() const;
  std::shared_ptr<grpc::Channel> events_channel() const;
  std::shared_ptr<grpc::Channel> notify_channel() const;

  // Runs calndro-admin with CALNDRO_DATABASE_URL and CALNDRO_LOG_KEY_FILE of this stack.
  CommandResult admin(const std::vector<std::string>& args, const std::string& stdin_data = "") const;
  // `calndro-admin user add`; throws when it fails. An empty password with
  // inactive=true makes an inactive user without password.
  User create_user(const std::string& email, const std::string& password = "pw-Secret-123",
                   bool staff = false, bool inactive = false, const std::string& username = "");

  // Restarts every calndro process (not the database or the sink). Each
  // listens again on the port it had, where its peers look for it.
  void restart_services();
  // Starts again whichever calndro process a test stopped (or that died),
  // and waits until the stack is ready; nothing when all run.
  void revive();
  // Waits until each process listens again (after restart/kill by a test)
  // and the gateway's /readyz says both services answer.
  void wait_ready() const;

 private:
  Env environment() const;
  void create_processes();
  // Sets a variable in the environment of every process (for their next
  // start) and in env().
  void set_everywhere(const std::string& variable, const std::string& value);
  void start_services();
  void wait_gateway_ready() const;

  StackOptions options_;
  TempDir dir_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<SmtpSink> smtp_;
  // Where events finds "notify" when the stack runs without it: nothing answers.
  std::unique_ptr<ClosedPort> no_notify_;
  // 0 until the process has started and said which port it got.
  int http_port_ = 0, events_port_ = 0, notify_port_ = 0;
  int events_metrics_port_ = 0, notify_metrics_port_ = 0, gateway_metrics_port_ = 0;
  std::string internal_token_;
  Env env_;
  std::unique_ptr<Process> notify_, events_, gateway_;
  // The second replicas, when options_.replicas == 2.
  std::unique_ptr<Process> notify_replica_, events_replica_;
  int events_replica_port_ = 0, notify_replica_port_ = 0;
};

// A fresh, unique, lower-case email: "<prefix>.<n>.<hex>@example.com".
std::string unique_email(const std::string& prefix = "user");

// Waits (up to 30 s) until every accepted notify, invitation or cancellation
// of the event was handed to the notification service and its mails left the
// outbox; a test failure when they did not.
void wait_mail_settled(Stack& stack, const std::string& event_id);

// A stack whose notify relay polls every 100 ms (not the production second),
// for tests that wait for the mails of an accepted notify; `env` is laid
// over it.
StackOptions prompt_mail_options(const Env& env = {});

// "Basic base64(user:password)".
std::string basic_auth(const std::string& user, const std::string& password);
std::string base64(const std::string& in);

// Base fixture: fails the test (never skips it) when the shared stack cannot
// start; starts again any process an earlier test of the binary stopped.
class StackTest : public ::testing::Test {
 protected:
  void SetUp() final;
  // The fixture's own preparation once the shared stack runs (users,
  // events); an exception or a fatal failure here fails the test.
  virtual void prepare() {}
  Stack& stack() { return *stack_; }

 private:
  Stack* stack_ = nullptr;
};

// Base fixture for a suite that needs a stack configured its own way: one
// stack started before the suite's first test with `Suite::options()` and
// stopped after its last, shared by the suite's tests (and by fixtures
// derived from `Suite`, which get a stack of their own per suite). A test
// fails (never skips) when it could not start.
//   class Purge : public SuiteStackTest<Purge> {
//    public:
//     static StackOptions options() { ... }
//   };
template <typename Suite>
class SuiteStackTest : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    error_.clear();
    try {
      stack_ = std::make_unique<Stack>(Suite::options());
    } catch (const std::exception& e) {
      error_ = e.what();
    }
  }
  static void TearDownTestSuite() { stack_.reset(); }

 protected:
  void SetUp() final {
    if (!stack_) {
      GTEST_FAIL() << "the suite's calndro stack could not start: " << error_;
    }
    try {
      stack_->revive();
      prepare();
    } catch (const std::exception& e) {
      GTEST_FAIL() << e.what();
    }
  }
  // The fixture's own preparation (users, events), as in StackTest.
  virtual void prepare() {}
  static Stack& stack() { return *stack_; }

 private:
  static inline std::unique_ptr<Stack> stack_;
  static inline std::string error_;
};

}  // namespace calndro::testing
