#include "common/base/settings.h"

#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "common/text/allowed_hosts.h"
#include "common/text/grpc_target.h"

namespace calndro::settings {
namespace {

bool has_control(std::string_view text) {
  for (const unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) {
      return true;
    }
  }
  return false;
}

std::optional<std::int64_t> whole_number(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

bool is_number(Kind kind) {
  return kind == Kind::kInteger || kind == Kind::kMilliseconds || kind == Kind::kSeconds ||
         kind == Kind::kDays;
}

std::int64_t milliseconds_per_unit(Kind kind) {
  switch (kind) {
    case Kind::kSeconds:
      return 1000;
    case Kind::kDays:
      return 24LL * 3600 * 1000;
    default:
      return 1;
  }
}

std::string joined_names(Processes processes) {
  std::string names;
  for (const Process process : {Process::kEvents, Process::kNotify, Process::kGateway, Process::kAdmin}) {
    if (processes.contains(process)) {
      names += (names.empty() ? "" : ", ") + std::string(process_name(process));
    }
  }
  return names;
}

std::string range(const Setting& setting) {
  return " from " + std::to_string(setting.min) + " to " + std::to_string(setting.max);
}

// What the kind allows, in words (Markdown): for messages and the docs.
std::string kind_words(const Setting& setting) {
  const std::string form(setting.form);
  switch (setting.kind) {
    case Kind::kInteger:
      return "a whole number" + range(setting);
    case Kind::kMilliseconds:
      return "milliseconds" + range(setting);
    case Kind::kSeconds:
      return "seconds" + range(setting);
    case Kind::kDays:
      return "days" + range(setting);
    case Kind::kText:
      return form.empty() ? "text" : form;
    case Kind::kSecret:
      return "secret text";
    case Kind::kList:
      return "comma-separated " + form;
    case Kind::kFile:
      return "a readable file" + (form.empty() ? "" : " (" + form + ")");
    case Kind::kDatabaseUrl:
      return "a PostgreSQL URI (`postgresql://...`) or `key=value` connection string";
    case Kind::kHttpUrl:
      return "`http(s)://host[:port][/path]` without query or fragment";
    case Kind::kSmtpUrl:
      return "`smtp://host[:port]` or `smtps://host[:port]`";
    case Kind::kListenAddress:
      return "`host:port` or `[v6]:port`, port" + range(setting);
    case Kind::kGrpcListen:
      return "`host:port`, `[v6]:port` or `unix:path`";
    case Kind::kGrpcTarget:
      return "`host:port`, IPv4 `host:port` items separated by commas, or a gRPC target "
             "(`dns:///host:port`)";
  }
  return "";
}

std::string allowed_words(const Setting& setting) {
  std::string words = kind_words(setting);
  if (!setting.off_for.empty()) {
    words += ", or `off`";
    if (setting.off_for != setting.readers) {
      words += " (" + joined_names(setting.off_for) + " only)";
    }
  }
  return words;
}

// The value as a message may show it: never a secret, never a URL's credentials.
std::string shown(const Setting& setting, std::string_view value) {
  if (setting.kind == Kind::kSecret) {
    return "a secret of " + std::to_string(value.size()) + " characters";
  }
  std::string text(value);
  const auto at = text.find('@');
  const bool url =
      setting.kind == Kind::kDatabaseUrl || setting.kind == Kind::kSmtpUrl || setting.kind == Kind::kHttpUrl;
  if (!url || at == std::string::npos) {
    return "'" + text + "'";
  }
  const auto scheme = text.find("://");
  if (scheme == std::string::npos || at < scheme || text.find('/', scheme + 3) < at) {
    return "a value with '@' (not shown: it may hold a password)";
  }
  text.replace(scheme + 3, at - scheme - 3, "***");
  return "'" + text + "'";
}

bool readable_file(const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  return static_cast<bool>(in);
}

bool database_url(std::string_view value) {
  for (const std::string_view scheme : {"postgresql://", "postgres://"}) {
    if (value.starts_with(scheme)) {
      return value.size() > scheme.size();
    }
  }
  return value.find('=') != std::string_view::npos;
}

bool smtp_url(std::string_view value) {
  for (const std::string_view scheme : {"smtp://", "smtps://"}) {
    if (value.starts_with(scheme)) {
      return value.size() > scheme.size() && value.find(' ') == std::string_view::npos;
    }
  }
  return false;
}

bool listen_address(const Setting& setting, std::string_view value) {
  std::string host;
  int port = 0;
  return split_host_port(value, host, port) && port >= setting.min && port <= setting.max;
}

bool grpc_listen(std::string_view value) {
  for (const std::string_view scheme : {"unix:", "unix-abstract:"}) {
    if (value.starts_with(scheme)) {
      return value.size() > scheme.size();
    }
  }
  std::string host;
  int port = 0;
  return split_host_port(value, host, port);
}

// True when a text-like `value` has the form its kind asks for.
bool has_kind_form(const Setting& setting, std::string_view value) {
  switch (setting.kind) {
    case Kind::kFile:
      return readable_file(std::string(value));
    case Kind::kDatabaseUrl:
      return database_url(value);
    case Kind::kHttpUrl:
      return valid_link_base(value);
    case Kind::kSmtpUrl:
      return smtp_url(value);
    case Kind::kListenAddress:
      return listen_address(setting, value);
    case Kind::kGrpcListen:
      return grpc_listen(value);
    default:
      return true;
  }
}

struct Checked {
  std::string text;
  std::int64_t number = 0;
};

// `value` checked against the setting's kind (a gRPC target rewritten as
// grpc_target() does); throws Error.
Checked check(const Setting& setting, const std::string& value) {
  const std::string must = "must be " + allowed_words(setting) + ", got " + shown(setting, value);
  if (is_number(setting.kind)) {
    const auto number = whole_number(value);
    if (!number || *number < setting.min || *number > setting.max) {
      throw Error(setting.name, must);
    }
    return {value, *number};
  }
  if (has_control(value)) {
    throw Error(setting.name, "must not contain control characters");
  }
  if (setting.kind == Kind::kGrpcTarget) {
    std::string problem;
    const auto target = grpc_target(value, problem);
    if (!target) {
      throw Error(setting.name, problem);
    }
    return {*target};
  }
  if (!has_kind_form(setting, value)) {
    throw Error(setting.name, setting.kind == Kind::kFile ? "cannot read " + shown(setting, value) : must);
  }
  return {value};
}

// Resolves values: the environment's, else the default with its references.
class Resolver {
 public:
  Resolver(const Environment& environment, std::optional<Process> process)
      : environment_(environment), process_(process) {}

  Checked resolve(const Setting& setting) {
    const auto variable = environment_.find(setting.name);
    if (variable == environment_.end()) {
      const std::string value = expand(setting.default_value);
      return value.empty() ? Checked{} : check(setting, value);
    }
    const std::string& value = variable->second;
    if (value.empty()) {
      if (!setting.default_value.empty()) {
        throw Error(setting.name,
                    "is empty; unset it for the default '" + expand(setting.default_value) + "'");
      }
      return {};
    }
    if (value == "off" && !setting.off_for.empty()) {
      if (process_ && !setting.off_for.contains(*process_)) {
        throw Error(setting.name, "cannot be off for " + std::string(process_name(*process_)) +
                                      " (only for " + joined_names(setting.off_for) + ")");
      }
      return {value};
    }
    return check(setting, value);
  }

 private:
  // A default with each "$CALNDRO_X" replaced by that setting's value.
  std::string expand(std::string_view text) {
    std::string out;
    while (true) {
      const auto dollar = text.find('$');
      out += text.substr(0, dollar);
      if (dollar == std::string_view::npos) {
        return out;
      }
      text.remove_prefix(dollar + 1);
      const auto end = text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
      const Setting* referenced = find(text.substr(0, end));
      if (referenced == nullptr) {
        throw std::logic_error("a default refers to an unknown setting: $" +
                               std::string(text.substr(0, end)));
      }
      out += resolve(*referenced).text;
      text.remove_prefix(end == std::string_view::npos ? text.size() : end);
    }
  }

  const Environment& environment_;
  std::optional<Process> process_;
};

// The settings a default refers to ("$CALNDRO_EVENTS_PORT").
std::vector<std::string_view> references(std::string_view text) {
  std::vector<std::string_view> names;
  for (auto dollar = text.find('$'); dollar != std::string_view::npos; dollar = text.find('$')) {
    text.remove_prefix(dollar + 1);
    const auto end = text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
    names.push_back(text.substr(0, end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end);
  }
  return names;
}

}  // namespace

std::string_view process_name(Process process) {
  switch (process) {
    case Process::kEvents:
      return "events";
    case Process::kNotify:
      return "notify";
    case Process::kGateway:
      return "gateway";
    case Process::kAdmin:
      return "admin";
  }
  return "";
}

const Setting* find(std::string_view name) {
  for (const Setting& setting : table()) {
    if (setting.name == name) {
      return &setting;
    }
  }
  return nullptr;
}

Error::Error(std::string_view name, std::string_view problem)
    : std::runtime_error(std::string(name) + ": " + std::string(problem)) {}

Environment process_environment() {
  Environment environment;
  for (const Setting& setting : table()) {
    if (const char* value = std::getenv(std::string(setting.name).c_str())) {
      environment.emplace(setting.name, value);
    }
  }
  return environment;
}

Values Values::load(Process process, const Environment& environment) {
  Values values;
  values.process_ = process;
  Resolver resolver(environment, process);
  for (const Setting& setting : table()) {
    if (setting.readers.contains(process)) {
      Checked checked = resolver.resolve(setting);
      values.values_.emplace(setting.name, Value{&setting, std::move(checked.text), checked.number});
    }
  }
  // A setting read for another's default ($CALNDRO_EVENTS_PORT) is read.
  for (const auto& [name, value] : values.values_) {
    for (const std::string_view referenced : references(value.setting->default_value)) {
      values.get(referenced);
    }
  }
  return values;
}

const Values::Value& Values::get(std::string_view name) const {
  const auto found = values_.find(name);
  if (found == values_.end()) {
    throw std::logic_error(std::string(name) + " is not a setting " + std::string(process_name(process_)) +
                           " reads (common/base/settings_table.cc)");
  }
  found->second.read = true;
  return found->second;
}

int Values::integer(std::string_view name) const {
  const Value& value = get(name);
  if (value.setting->kind != Kind::kInteger) {
    throw std::logic_error(std::string(name) + " is not a whole number setting");
  }
  return static_cast<int>(value.number);
}

std::chrono::milliseconds Values::milliseconds(std::string_view name) const {
  const Value& value = get(name);
  if (!is_number(value.setting->kind) || value.setting->kind == Kind::kInteger) {
    throw std::logic_error(std::string(name) + " is not a duration setting");
  }
  return std::chrono::milliseconds(value.number * milliseconds_per_unit(value.setting->kind));
}

const std::string& Values::text(std::string_view name) const {
  const Value& value = get(name);
  if (is_number(value.setting->kind)) {
    throw std::logic_error(std::string(name) + " is a number setting");
  }
  return value.text;
}

std::optional<std::string> Values::unless_off(std::string_view name) const {
  const std::string& value = text(name);
  if (value == "off" && find(name)->off_for.contains(process_)) {
    return std::nullopt;
  }
  return value;
}

Error Values::refused(std::string_view name, std::string_view problem) {
  const std::string prefix = std::string(name) + ": ";
  if (problem.starts_with(prefix)) {
    problem.remove_prefix(prefix.size());
  }
  return Error(name, problem);
}

void Values::expect_all_read() const {
  std::string unread;
  for (const auto& [name, value] : values_) {
    if (!value.read) {
      unread += (unread.empty() ? "" : ", ") + std::string(name);
    }
  }
  if (!unread.empty()) {
    throw std::logic_error("common/base/settings_table.cc says " + std::string(process_name(process_)) +
                           " reads " + unread + ", but nothing asked for it");
  }
}

std::string from_environment(std::string_view name) {
  const Setting* setting = find(name);
  if (setting == nullptr) {
    throw std::logic_error(std::string(name) + " is not in common/base/settings_table.cc");
  }
  return Resolver(process_environment(), std::nullopt).resolve(*setting).text;
}

bool split_host_port(std::string_view text, std::string& host, int& port) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
    return false;
  }
  std::string_view host_part = text.substr(0, colon);
  const std::string_view port_part = text.substr(colon + 1);
  if (host_part.front() == '[') {
    if (host_part.size() < 3 || host_part.back() != ']') {
      return false;
    }
    host_part = host_part.substr(1, host_part.size() - 2);
  } else if (host_part.find(':') != std::string_view::npos) {
    return false;
  }
  int value = -1;
  const auto [end, error] = std::from_chars(port_part.data(), port_part.data() + port_part.size(), value);
  if (error != std::errc() || end != port_part.data() + port_part.size() || value < 0 || value > 65535) {
    return false;
  }
  host = std::string(host_part);
  port = value;
  return true;
}

std::string markdown_table() {
  std::ostringstream out;
  out << "| variable | allowed values | default | read by | what it does |\n"
      << "|---|---|---|---|---|\n";
  for (const Setting& setting : table()) {
    const std::string default_value =
        setting.default_value.empty() ? "empty" : "`" + std::string(setting.default_value) + "`";
    out << "| `" << setting.name << "` | " << allowed_words(setting) << " | " << default_value << " | "
        << joined_names(setting.readers) << " | " << setting.doc << " |\n";
  }
  return out.str();
}

}  // namespace calndro::settings
