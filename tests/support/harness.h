#pragma once

// Building blocks for calndro's integration tests: temporary folders,
// private PostgreSQL databases, child processes with captured logs and the
// ports they report listening on.
// Everything throws std::runtime_error with a readable message on failure.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace calndro::testing {

using Env = std::map<std::string, std::string>;
using namespace std::chrono_literals;

// True when something accepts a TCP connection on 127.0.0.1:port.
bool port_accepts(int port);

// "127.0.0.1:port".
std::string loopback(int port);

// A port on 127.0.0.1 that refuses connections for as long as this object
// lives: a socket bound to a port the kernel chose, never listening. For
// addresses that must not answer (a peer that is down, a database that is
// not there); no other process can take the port meanwhile, as it could a
// port that was merely free a moment ago.
class ClosedPort {
 public:
  ClosedPort();
  ~ClosedPort();
  ClosedPort(const ClosedPort&) = delete;
  ClosedPort& operator=(const ClosedPort&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// Reads a whole file ("" when it does not exist).
std::string read_file(const std::filesystem::path& path);

// A fresh folder under $TMPDIR, removed with everything in it at destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "calndro-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A fresh database on the cluster named by CALNDRO_TEST_PG_URL (an admin URL,
// e.g. postgresql://calndro@127.0.0.1:5433/postgres). The database gets a
// unique name and is dropped at destruction. Without CALNDRO_TEST_PG_URL the
// constructor throws: integration tests fail loudly, they never skip.
class Database {
 public:
  Database();
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // The admin URL from the environment; throws when unset.
  static std::string admin_url();

  const std::string& name() const { return name_; }
  const std::string& url() const { return url_; }

  // Runs SQL on this database; rows as text ("" for NULL).
  std::vector<std::vector<std::string>> query(const std::string& sql) const;
  // First column of the first row, "" when there is none.
  std::string scalar(const std::string& sql) const;
  void exec(const std::string& sql) const { (void)query(sql); }

 private:
  std::string name_;
  std::string url_;
};

// Creates a fresh database and returns its URL; it is dropped when the test
// process exits normally. Prefer a `Database` object when the scope is known.
std::string create_database();
// Drops every database create_database() made (the harness calls it when the
// tests are over).
void drop_created_databases();

struct CommandResult {
  int exit_code = -1;  // 128+signal when killed by a signal
  std::string out;     // stdout
  std::string err;     // stderr
  std::string output() const { return out + err; }
};

// Runs a program to completion with `env` laid over the current environment
// (CALNDRO_* variables of the current environment are dropped first), feeding
// `stdin_data`. Throws after `timeout`.
CommandResult run_command(const std::string& program, const std::vector<std::string>& args,
                          const Env& env = {}, const std::string& stdin_data = "",
                          std::chrono::milliseconds timeout = 60s);

// The path of a calndro binary in the build's bin folder.
std::string bin_path(const std::string& name);

// A long-running child process. stdout and stderr are appended to log_path.
// The child gets the current environment without CALNDRO_* variables, plus
// `env`; it is killed if the test process dies.
class Process {
 public:
  Process(std::string program, std::vector<std::string> args, Env env, std::filesystem::path log_path);
  ~Process();  // terminate()
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  void start();
  // Waits until 127.0.0.1:port accepts; throws (with the log's tail) when the
  // process exits first or the timeout passes.
  void wait_port(int port, std::chrono::milliseconds timeout = 30s) const;
  // The port the process says it listens on since its last start: the
  // "port" field of the first JSON log line whose "msg" is `message`
  // (calndro's processes log "serving", "listening" and "metrics served",
  // tests/support/smtp_sink.py "listening"). Told to listen on port 0, a
  // process gets a free port from the kernel; this reads which. Throws
  // (with the log's tail) when the process exits first or the timeout passes.
  int wait_reported_port(const std::string& message, std::chrono::milliseconds timeout = 30s) const;
  // SIGTERM, then waits; SIGKILL after `grace`. Returns the exit code
  // (128+signal when killed), -1 when it was not running.
  int terminate(std::chrono::milliseconds grace = 10s);
  // SIGKILL and wait.
  void kill9();
  void restart() {
    terminate();
    start();
  }
  bool running() const;
  pid_t pid() const { return pid_; }
  const std::string& program() const { return program_; }
  Env& env() { return env_; }
  const std::filesystem::path& log_path() const { return log_path_; }
  std::string log() const { return read_file(log_path_); }
  // What the process logged since its last start().
  std::string log_since_start() const;
  // The last n lines of the log, for failure messages.
  std::string log_tail(size_t lines = 40) const;

 private:
  std::string program_;
  std::vector<std::string> args_;
  Env env_;
  std::filesystem::path log_path_;
  mutable pid_t pid_ = -1;
  mutable int exit_status_ = -1;
  std::uintmax_t log_offset_ = 0;  // the log's size when the process last started
};

}  // namespace calndro::testing
