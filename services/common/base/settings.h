#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

// Every CALNDRO_* setting of every process in one table (settings_table.cc):
// its kind, default, bounds, the processes that read it and what it does.
// A process loads its settings once, at start-up, before it serves; a value
// that breaks the table's rule stops it with a message naming the setting
// and what it allows. docs/OPERATIONS.md's table is printed from here
// (`calndro-events --print-settings-markdown`), and a test keeps them equal.
namespace calndro::settings {

enum class Process : std::uint8_t { kEvents, kNotify, kGateway, kAdmin };

// "events", "notify", "gateway", "admin": the names the docs use.
std::string_view process_name(Process process);

// A set of processes, written {kEvents, kNotify}.
class Processes {
 public:
  constexpr Processes() = default;
  constexpr Processes(std::initializer_list<Process> processes) {
    for (const Process process : processes) {
      bits_ |= bit(process);
    }
  }
  constexpr bool contains(Process process) const { return (bits_ & bit(process)) != 0; }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr bool operator==(const Processes&) const = default;

 private:
  static constexpr std::uint8_t bit(Process process) {
    return static_cast<std::uint8_t>(1U << static_cast<unsigned>(process));
  }
  std::uint8_t bits_ = 0;
};

// What a value may be. Numbers and durations are whole numbers from `min`
// to `max` (a duration in its kind's unit: the variable's name says it too).
enum class Kind : std::uint8_t {
  kInteger,
  kMilliseconds,
  kSeconds,
  kDays,
  kText,           // any text without control characters
  kSecret,         // the same, never echoed in a message
  kList,           // comma-separated entries; the reader parses each (`form` says how)
  kFile,           // the path of a readable file
  kDatabaseUrl,    // a libpq URI (postgresql://...) or key=value connection string
  kHttpUrl,        // http(s)://host[:port][/path], without query or fragment
  kSmtpUrl,        // smtp:// or smtps:// with a host
  kListenAddress,  // host:port or [v6]:port, the port from `min` to `max`
  kGrpcListen,     // host:port, [v6]:port or unix:path
  kGrpcTarget,     // host:port, IPv4 host:port items separated by commas, or a gRPC target
};

struct Setting {
  std::string_view name{};
  Kind kind = Kind::kText;
  // Used when the variable is unset. "$CALNDRO_X" inside stands for the
  // value of that setting (which the same processes read).
  std::string_view default_value{};
  std::int64_t min = 0;
  std::int64_t max = 0;
  Processes readers{};
  // The processes for which "off" is a value: the feature is then off.
  Processes off_for{};
  // What a value looks like where the kind does not say it all (markdown).
  std::string_view form{};
  // One line for the docs (markdown).
  std::string_view doc{};
};

// The table, in the order of the docs.
std::span<const Setting> table();
// The part of table() for change streams and webhooks (settings_table_live.cc).
std::span<const Setting> live_settings();
// nullptr for a name that is not in the table.
const Setting* find(std::string_view name);

// A value the table refuses. what(): "NAME must be ...; got '...'" (a
// secret or a URL's credentials are never echoed).
class Error : public std::runtime_error {
 public:
  Error(std::string_view name, std::string_view problem);
};

// Variable name -> value, as set (an empty value is set).
using Environment = std::map<std::string, std::string, std::less<>>;
// This process's variables that the table names.
Environment process_environment();

// One process's settings, checked against the table. Asking for a setting
// the process does not read, or with the getter of another kind, is a
// programming error (std::logic_error): the "read by" column stays true.
class Values {
 public:
  // Throws Error naming the first setting of `process` whose value breaks the table.
  static Values load(Process process, const Environment& environment);
  static Values load(Process process) { return load(process, process_environment()); }

  int integer(std::string_view name) const;
  std::chrono::milliseconds milliseconds(std::string_view name) const;
  template <typename Duration>
  Duration duration(std::string_view name) const {
    return std::chrono::duration_cast<Duration>(milliseconds(name));
  }
  // The value of a text-like kind; gRPC targets as grpc_target() writes them.
  const std::string& text(std::string_view name) const;
  // nullopt when the value is "off".
  std::optional<std::string> unless_off(std::string_view name) const;
  // parse(text(name)), its failure rethrown as an Error naming the setting:
  // for values whose type belongs to the reader (a mailbox, CIDR blocks).
  template <typename Parse>
  auto parsed(std::string_view name, Parse parse) const -> decltype(parse(std::string())) {
    const std::string& value = text(name);
    try {
      return parse(value);
    } catch (const std::exception& error) {
      throw refused(name, error.what());
    }
  }

  // Throws std::logic_error when a setting the table gives this process was
  // never asked for: the wiring and the "read by" column disagree.
  void expect_all_read() const;

 private:
  struct Value {
    const Setting* setting = nullptr;
    std::string text;
    std::int64_t number = 0;
    mutable bool read = false;
  };
  const Value& get(std::string_view name) const;
  static Error refused(std::string_view name, std::string_view problem);

  Process process_ = Process::kEvents;
  std::map<std::string_view, Value, std::less<>> values_;
};

// One setting's value from this process's environment, checked against the
// table whoever reads it: for code that reads its own settings when first
// used (common/grpc/grpc_channel.h's TLS files).
std::string from_environment(std::string_view name);

// "host:port" or "[v6]:port", port 0..65535. False when malformed.
bool split_host_port(std::string_view text, std::string& host, int& port);

// The table as markdown, for docs/OPERATIONS.md.
std::string markdown_table();

}  // namespace calndro::settings
