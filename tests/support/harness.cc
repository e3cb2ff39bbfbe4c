#include "support/harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/wait.h"

extern char** environ;

namespace calndro::testing {
namespace fs = std::filesystem;

namespace {

// Waits up to `limit` for `pid` to end and reaps it; past that, kills it.
// Returns whether it ended by itself.
bool reap_within(pid_t pid, std::chrono::milliseconds limit, int& status) {
  if (wait_until([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, limit, "the process to end")) {
    return true;
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return false;
}

std::string random_hex(size_t n) {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  std::lock_guard lock(mu);
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += digits[rng() % 16];
  }
  return s;
}

// Current environment minus CALNDRO_*, plus `extra`.
std::vector<std::string> child_environment(const Env& extra) {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq == std::string::npos) {
      continue;
    }
    std::string key = kv.substr(0, eq);
    if (key.rfind("CALNDRO_", 0) == 0) {
      continue;
    }
    env[key] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : extra) {
    env[k] = v;
  }
  std::vector<std::string> out;
  for (const auto& [k, v] : env) {
    out.push_back(k + "=" + v);
  }
  return out;
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) {
    out.push_back(s.data());
  }
  out.push_back(nullptr);
  return out;
}

// Forks and execs `program` with `args` in `env`. The child dies with the
// test process; `set_up_child` wires its standard streams before the exec.
template <typename SetUp>
pid_t spawn(const std::string& program, const std::vector<std::string>& args, const Env& env,
            SetUp set_up_child) {
  std::vector<std::string> argv_s{program};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  auto envv_s = child_environment(env);
  auto argv = c_strings(argv_s);
  auto envv = c_strings(envv_s);
  pid_t pid = ::fork();
  if (pid < 0) {
    throw std::runtime_error("fork() failed");
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    set_up_child();
    ::execve(program.c_str(), argv.data(), envv.data());
    std::fprintf(stderr, "execve %s: %s\n", program.c_str(), std::strerror(errno));
    ::_exit(127);
  }
  return pid;
}

// Replaces the database name (the URL's path) of a PostgreSQL URL.
std::string with_dbname(const std::string& url, const std::string& db) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) {
    throw std::runtime_error("CALNDRO_TEST_PG_URL is not a URL: " + url);
  }
  auto slash = url.find('/', scheme + 3);
  auto query = url.find('?', scheme + 3);
  std::string base = url.substr(0, slash == std::string::npos ? query : slash);
  std::string q = query == std::string::npos ? "" : url.substr(query);
  return base + "/" + db + q;
}

int decode_status(int status) {
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  if (WIFSIGNALED(status)) {
    return 128 + WTERMSIG(status);
  }
  return -1;
}

}  // namespace

ClosedPort::ClosedPort() {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    throw std::runtime_error("socket() failed");
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd_);
    throw std::runtime_error("bind() to port 0 failed");
  }
  port_ = ntohs(addr.sin_port);
}

ClosedPort::~ClosedPort() {
  ::close(fd_);
}

std::string loopback(int port) {
  return "127.0.0.1:" + std::to_string(port);
}

bool port_accepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    return false;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return "";
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ---- TempDir ----

TempDir::TempDir(const std::string& prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/" + prefix + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) {
    throw std::runtime_error("mkdtemp failed for " + tmpl);
  }
  path_ = buf.data();
}

TempDir::~TempDir() {
  if (std::getenv("CALNDRO_TEST_KEEP")) {
    return;
  }
  std::error_code ec;
  fs::remove_all(path_, ec);
}

// ---- Database ----

std::string Database::admin_url() {
  const char* url = std::getenv("CALNDRO_TEST_PG_URL");
  if (!url || !*url) {
    throw std::runtime_error(
        "CALNDRO_TEST_PG_URL is not set. Integration tests need a running PostgreSQL "
        "cluster: start one with `deploy/lib/pg-cluster.sh start DIR PORT` and export "
        "CALNDRO_TEST_PG_URL=postgresql://calndro@127.0.0.1:PORT/postgres "
        "(deploy/test.sh does all of this).");
  }
  return url;
}

Database::Database() {
  std::string admin = admin_url();
  name_ = "calndro_t_" + std::to_string(::getpid()) + "_" + random_hex(10);
  try {
    pqxx::connection c(admin);
    pqxx::nontransaction tx(c);
    tx.exec("CREATE DATABASE " + c.quote_name(name_));
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot create a test database via CALNDRO_TEST_PG_URL=" + admin + ": " +
                             e.what());
  }
  url_ = with_dbname(admin, name_);
}

Database::~Database() {
  try {
    pqxx::connection c(admin_url());
    pqxx::nontransaction tx(c);
    tx.exec("DROP DATABASE IF EXISTS " + c.quote_name(name_) + " WITH (FORCE)");
  } catch (const std::exception&) {
    // Best effort: the cluster is private to the test run.
  }
}

std::vector<std::vector<std::string>> Database::query(const std::string& sql) const {
  pqxx::connection c(url_);
  pqxx::nontransaction tx(c);
  pqxx::result r = tx.exec(sql);
  std::vector<std::vector<std::string>> rows;
  for (const auto& row : r) {
    std::vector<std::string> out;
    for (const auto& f : row) {
      out.push_back(f.is_null() ? "" : f.c_str());
    }
    rows.push_back(std::move(out));
  }
  return rows;
}

std::string Database::scalar(const std::string& sql) const {
  auto rows = query(sql);
  if (rows.empty() || rows[0].empty()) {
    return "";
  }
  return rows[0][0];
}

namespace {
std::mutex created_mu;
std::vector<std::unique_ptr<Database>>& created() {
  static auto* keep = new std::vector<std::unique_ptr<Database>>();  // never destroyed statically
  return *keep;
}
}  // namespace

std::string create_database() {
  auto db = std::make_unique<Database>();
  std::string url = db->url();
  std::lock_guard lock(created_mu);
  created().push_back(std::move(db));
  return url;
}

void drop_created_databases() {
  std::lock_guard lock(created_mu);
  created().clear();
}

// ---- commands and processes ----

std::string bin_path(const std::string& name) {
  return std::string(CALNDRO_BIN_DIR) + "/" + name;
}

CommandResult run_command(const std::string& program, const std::vector<std::string>& args, const Env& env,
                          const std::string& stdin_data, std::chrono::milliseconds timeout) {
  TempDir dir("calndro-cmd");
  fs::path out_path = dir.path() / "out", err_path = dir.path() / "err";
  int in_pipe[2];
  if (::pipe(in_pipe) != 0) {
    throw std::runtime_error("pipe() failed");
  }
  const pid_t pid = spawn(program, args, env, [&] {
    ::dup2(in_pipe[0], 0);
    ::close(in_pipe[0]);
    ::close(in_pipe[1]);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(out, 1);
    ::dup2(err, 2);
  });
  ::close(in_pipe[0]);
  ::signal(SIGPIPE, SIG_IGN);
  size_t off = 0;
  while (off < stdin_data.size()) {
    ssize_t n = ::write(in_pipe[1], stdin_data.data() + off, stdin_data.size() - off);
    if (n <= 0) {
      break;
    }
    off += static_cast<size_t>(n);
  }
  ::close(in_pipe[1]);
  int status = 0;
  if (!reap_within(pid, timeout, status)) {
    throw std::runtime_error("command timed out: " + program + "\n" + read_file(out_path) +
                             read_file(err_path));
  }
  CommandResult res;
  res.exit_code = decode_status(status);
  res.out = read_file(out_path);
  res.err = read_file(err_path);
  return res;
}

Process::Process(std::string program, std::vector<std::string> args, Env env, fs::path log_path)
    : program_(std::move(program)),
      args_(std::move(args)),
      env_(std::move(env)),
      log_path_(std::move(log_path)) {}

Process::~Process() {
  try {
    terminate();
  } catch (...) {
  }
}

void Process::start() {
  if (running()) {
    throw std::runtime_error(program_ + " is already running");
  }
  if (::access(program_.c_str(), X_OK) != 0) {
    throw std::runtime_error("not an executable: " + program_ +
                             " (is it built? build the whole project first)");
  }
  {
    std::ofstream mark(log_path_, std::ios::app);
    mark << "---- start " << program_ << " ----\n";
  }
  log_offset_ = fs::file_size(log_path_);
  pid_ = spawn(program_, args_, env_, [this] {
    ::setpgid(0, 0);
    int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    int log = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(log, 1);
    ::dup2(log, 2);
  });
  exit_status_ = -1;
}

bool Process::running() const {
  if (pid_ <= 0) {
    return false;
  }
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_status_ = decode_status(status);
    pid_ = -1;
    return false;
  }
  return r == 0;
}

void Process::wait_port(int port, std::chrono::milliseconds timeout) const {
  const auto listening = wait_until(
      [&] {
        if (!running()) {
          throw std::runtime_error(program_ + " exited (code " + std::to_string(exit_status_) +
                                   ") before listening on port " + std::to_string(port) + "; log:\n" +
                                   log_tail());
        }
        return port_accepts(port);
      },
      timeout, program_ + " to listen on port " + std::to_string(port));
  if (!listening) {
    throw std::runtime_error(std::string(listening.message()) + "; log:\n" + log_tail());
  }
}

std::string Process::log_since_start() const {
  const std::string all = log();
  return log_offset_ < all.size() ? all.substr(log_offset_) : "";
}

namespace {

// The "port" of the first JSON line in `log` whose "msg" is `message`; 0 when
// there is none yet.
int reported_port(const std::string& log, const std::string& message) {
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line.front() != '{' || line.find(message) == std::string::npos) {
      continue;
    }
    const auto parsed = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_object() && parsed.value("msg", "") == message && parsed.contains("port") &&
        parsed["port"].is_number_integer()) {
      return parsed["port"].get<int>();
    }
  }
  return 0;
}

}  // namespace

int Process::wait_reported_port(const std::string& message, std::chrono::milliseconds timeout) const {
  int port = 0;
  const auto reported = wait_until(
      [&] {
        port = reported_port(log_since_start(), message);
        if (port == 0 && !running()) {
          throw std::runtime_error(program_ + " exited (code " + std::to_string(exit_status_) +
                                   ") before it logged \"" + message + "\" with its port; log:\n" +
                                   log_tail());
        }
        return port > 0;
      },
      timeout, program_ + " to log \"" + message + "\" with its port");
  if (!reported) {
    throw std::runtime_error(std::string(reported.message()) + "; log:\n" + log_tail());
  }
  return port;
}

int Process::terminate(std::chrono::milliseconds grace) {
  if (!running()) {
    return -1;
  }
  pid_t pid = pid_;
  ::kill(pid, SIGTERM);
  int status = 0;
  (void)reap_within(pid, grace, status);
  pid_ = -1;
  exit_status_ = decode_status(status);
  return exit_status_;
}

void Process::kill9() {
  if (!running()) {
    return;
  }
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  exit_status_ = decode_status(status);
  pid_ = -1;
}

std::string Process::log_tail(size_t lines) const {
  std::string all = log();
  size_t pos = all.size();
  size_t count = 0;
  while (pos > 0 && count <= lines) {
    pos = all.rfind('\n', pos - 1);
    if (pos == std::string::npos) {
      return all;
    }
    ++count;
  }
  return all.substr(pos);
}

}  // namespace calndro::testing
