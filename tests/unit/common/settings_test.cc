#include "common/base/settings.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace calndro::settings {
namespace {

using namespace std::chrono_literals;

constexpr Process kAllProcesses[] = {Process::kEvents, Process::kNotify, Process::kGateway, Process::kAdmin};

// The message of the Error that loading `environment` for `process` throws; "" when none.
std::string refusal(Process process, const Environment& environment) {
  try {
    (void)Values::load(process, environment);
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

// Expects `value` of `name` to be refused for `process` with a message that
// starts with the name and contains `words`.
void expect_refused(Process process, const std::string& name, const std::string& value,
                    const std::string& words = "") {
  const std::string message = refusal(process, {{name, value}});
  EXPECT_TRUE(message.starts_with(name + ": ")) << name << "='" << value << "': " << message;
  EXPECT_NE(message.find(words), std::string::npos) << name << "='" << value << "': " << message;
}

std::string temp_file(const std::string& name, const std::string& content) {
  const auto path = std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()));
  std::ofstream(path) << content;
  return path.string();
}

TEST(SettingsTable, EveryEntryIsWhole) {
  std::set<std::string_view> names;
  for (const Setting& setting : table()) {
    EXPECT_TRUE(names.insert(setting.name).second) << "twice: " << setting.name;
    EXPECT_TRUE(setting.name.starts_with("CALNDRO_")) << setting.name;
    EXPECT_FALSE(setting.readers.empty()) << setting.name << " is read by no process";
    EXPECT_FALSE(setting.doc.empty()) << setting.name;
    for (const std::string_view text : {setting.doc, setting.form, setting.default_value}) {
      EXPECT_EQ(text.find_first_of("|\n"), std::string_view::npos) << setting.name << ": breaks the table";
    }
    for (const Process process : kAllProcesses) {
      EXPECT_TRUE(!setting.off_for.contains(process) || setting.readers.contains(process)) << setting.name;
    }
    if (setting.kind == Kind::kList) {
      EXPECT_FALSE(setting.form.empty()) << setting.name << ": a list says what its entries are";
    }
  }
  EXPECT_EQ(find("CALNDRO_DB_POOL_SIZE"), &table()[1]);
  EXPECT_EQ(find("CALNDRO_NO_SUCH_SETTING"), nullptr);
}

TEST(SettingsTable, DefaultsReferOnlyToSettingsTheSameProcessesRead) {
  for (const Setting& setting : table()) {
    const auto dollar = setting.default_value.find('$');
    if (dollar == std::string_view::npos) {
      continue;
    }
    const std::string_view rest = setting.default_value.substr(dollar + 1);
    const Setting* referenced = find(rest.substr(0, rest.find(':')));
    ASSERT_NE(referenced, nullptr) << setting.name;
    for (const Process process : kAllProcesses) {
      EXPECT_TRUE(!setting.readers.contains(process) || referenced->readers.contains(process))
          << setting.name << " needs " << referenced->name << " in " << process_name(process);
    }
  }
}

TEST(SettingsDefaults, EveryProcessLoadsWithAnEmptyEnvironment) {
  for (const Process process : kAllProcesses) {
    EXPECT_EQ(refusal(process, {}), "") << process_name(process);
  }
}

TEST(SettingsDefaults, TheValuesTheDocsPromise) {
  const Values events = Values::load(Process::kEvents, {});
  EXPECT_EQ(events.text("CALNDRO_EVENTS_LISTEN"), "127.0.0.1:50051");
  EXPECT_EQ(events.text("CALNDRO_NOTIFY_ADDR"), "127.0.0.1:50052");
  EXPECT_EQ(events.text("CALNDRO_DATABASE_URL"), "postgresql://calndro@127.0.0.1:5432/calndro");
  EXPECT_EQ(events.unless_off("CALNDRO_EVENTS_METRICS_LISTEN"), "127.0.0.1:9101");
  EXPECT_EQ(events.integer("CALNDRO_DB_POOL_SIZE"), 8);
  EXPECT_EQ(events.milliseconds("CALNDRO_RPC_TIMEOUT_MS"), 5000ms);
  EXPECT_EQ(events.duration<std::chrono::hours>("CALNDRO_RETENTION_DAYS"), 24h * 30);
  EXPECT_EQ(events.duration<std::chrono::seconds>("CALNDRO_PURGE_INTERVAL_SECONDS"), 3600s);
  EXPECT_EQ(events.duration<std::chrono::seconds>("CALNDRO_EMAIL_TOKEN_CACHE_SECONDS"), 0s);
  EXPECT_EQ(events.text("CALNDRO_INTERNAL_TOKEN"), "");

  const Values notify = Values::load(Process::kNotify, {});
  EXPECT_EQ(notify.text("CALNDRO_NOTIFY_LISTEN"), "127.0.0.1:50052");
  EXPECT_EQ(notify.text("CALNDRO_SMTP_URL"), "smtp://127.0.0.1:1025");
  EXPECT_EQ(notify.text("CALNDRO_MAIL_FROM"), "calndro <noreply@calndro.localhost>");
  EXPECT_EQ(notify.text("CALNDRO_SUBJECT_PREFIX"), "[calndro] ");
  EXPECT_EQ(notify.duration<std::chrono::days>("CALNDRO_TOKEN_DAYS").count(), 5);
  EXPECT_EQ(notify.integer("CALNDRO_DISPATCH_WORKERS"), 1);

  const Values gateway = Values::load(Process::kGateway, {});
  EXPECT_EQ(gateway.text("CALNDRO_HTTP_LISTEN"), "0.0.0.0:9000");
  EXPECT_EQ(gateway.text("CALNDRO_EVENTS_ADDR"), "127.0.0.1:50051");
  EXPECT_EQ(gateway.unless_off("CALNDRO_NOTIFY_ADDR"), "127.0.0.1:50052");
  EXPECT_EQ(gateway.text("CALNDRO_PUBLIC_BASE_URL"), "");
  EXPECT_EQ(gateway.integer("CALNDRO_HTTP_THREADS"), 64);
}

TEST(SettingsDefaults, AddressesFollowThePorts) {
  const Environment ports = {
      {"CALNDRO_EVENTS_PORT", "6001"}, {"CALNDRO_NOTIFY_PORT", "6002"}, {"CALNDRO_HTTP_PORT", "6003"}};
  EXPECT_EQ(Values::load(Process::kEvents, ports).text("CALNDRO_EVENTS_LISTEN"), "127.0.0.1:6001");
  EXPECT_EQ(Values::load(Process::kEvents, ports).text("CALNDRO_NOTIFY_ADDR"), "127.0.0.1:6002");
  EXPECT_EQ(Values::load(Process::kNotify, ports).text("CALNDRO_NOTIFY_LISTEN"), "127.0.0.1:6002");
  const Values gateway = Values::load(Process::kGateway, ports);
  EXPECT_EQ(gateway.text("CALNDRO_HTTP_LISTEN"), "0.0.0.0:6003");
  EXPECT_EQ(gateway.text("CALNDRO_EVENTS_ADDR"), "127.0.0.1:6001");
  EXPECT_EQ(gateway.text("CALNDRO_NOTIFY_ADDR"), "127.0.0.1:6002");

  Environment explicit_listen = ports;
  explicit_listen["CALNDRO_EVENTS_LISTEN"] = "0.0.0.0:7001";
  EXPECT_EQ(Values::load(Process::kEvents, explicit_listen).text("CALNDRO_EVENTS_LISTEN"), "0.0.0.0:7001");
  // A port the table refuses is named even when only a default uses it.
  expect_refused(Process::kEvents, "CALNDRO_EVENTS_PORT", "0", "from 1 to 65535");
}

TEST(SettingsKinds, WholeNumbers) {
  EXPECT_EQ(Values::load(Process::kEvents, {{"CALNDRO_DB_POOL_SIZE", "256"}}).integer("CALNDRO_DB_POOL_SIZE"),
            256);
  EXPECT_EQ(Values::load(Process::kEvents, {{"CALNDRO_DB_POOL_SIZE", "1"}}).integer("CALNDRO_DB_POOL_SIZE"),
            1);
  for (const char* bad : {"0", "257", "-3", "12x", "x", " 8", "8 ", "+8", "1e2", "99999999999999999999"}) {
    expect_refused(Process::kEvents, "CALNDRO_DB_POOL_SIZE", bad,
                   "must be a whole number from 1 to 256, got '");
  }
  expect_refused(Process::kEvents, "CALNDRO_DB_POOL_SIZE", "", "is empty; unset it for the default '8'");
}

TEST(SettingsKinds, DurationsInTheirUnit) {
  const Values values = Values::load(Process::kEvents, {{"CALNDRO_RPC_TIMEOUT_MS", "50"},
                                                        {"CALNDRO_LOGIN_WINDOW_SECONDS", "2"},
                                                        {"CALNDRO_API_TOKEN_DAYS", "7"}});
  EXPECT_EQ(values.milliseconds("CALNDRO_RPC_TIMEOUT_MS"), 50ms);
  EXPECT_EQ(values.milliseconds("CALNDRO_LOGIN_WINDOW_SECONDS"), 2000ms);
  EXPECT_EQ(values.duration<std::chrono::hours>("CALNDRO_API_TOKEN_DAYS"), 24h * 7);
  for (const char* bad : {"49", "600001", "5s", "0.5", "-50"}) {
    expect_refused(Process::kEvents, "CALNDRO_RPC_TIMEOUT_MS", bad, "milliseconds from 50 to 600000");
  }
  expect_refused(Process::kEvents, "CALNDRO_LOGIN_WINDOW_SECONDS", "86401", "seconds from 1 to 86400");
  expect_refused(Process::kEvents, "CALNDRO_API_TOKEN_DAYS", "0", "days from 1 to 3650");
}

TEST(SettingsKinds, SharedSettingsHaveOneRuleForEveryProcess) {
  // Retention was up to 36500 days for notify and 3650 for events; the
  // purge interval 0 (off) for notify only. One rule now, for both.
  for (const Process process : {Process::kEvents, Process::kNotify}) {
    expect_refused(process, "CALNDRO_RETENTION_DAYS", "3651", "days from 1 to 3650");
    EXPECT_EQ(refusal(process, {{"CALNDRO_RETENTION_DAYS", "3650"}}), "");
    EXPECT_EQ(Values::load(process, {{"CALNDRO_PURGE_INTERVAL_SECONDS", "0"}})
                  .milliseconds("CALNDRO_PURGE_INTERVAL_SECONDS"),
              0ms);
    expect_refused(process, "CALNDRO_PURGE_INTERVAL_SECONDS", "604801", "seconds from 0 to 604800");
  }
  for (const Process process : {Process::kEvents, Process::kGateway}) {
    expect_refused(process, "CALNDRO_RPC_TIMEOUT_MS", "1", "from 50");
  }
}

TEST(SettingsKinds, TextAndSecrets) {
  EXPECT_EQ(
      Values::load(Process::kNotify, {{"CALNDRO_SUBJECT_PREFIX", "[cal] "}}).text("CALNDRO_SUBJECT_PREFIX"),
      "[cal] ");
  expect_refused(Process::kNotify, "CALNDRO_SUBJECT_PREFIX", "a\r\nBcc: x", "control characters");
  expect_refused(Process::kNotify, "CALNDRO_SUBJECT_PREFIX", "", "is empty");
  // Empty where the default is empty: the same as unset.
  EXPECT_EQ(Values::load(Process::kNotify, {{"CALNDRO_REPLICA_ID", ""}}).text("CALNDRO_REPLICA_ID"), "");
  const std::string message = refusal(Process::kNotify, {{"CALNDRO_SMTP_PASSWORD", "hunter2\n"}});
  EXPECT_TRUE(message.starts_with("CALNDRO_SMTP_PASSWORD: ")) << message;
  EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
  EXPECT_EQ(
      Values::load(Process::kNotify, {{"CALNDRO_SMTP_PASSWORD", "hunter2"}}).text("CALNDRO_SMTP_PASSWORD"),
      "hunter2");
}

TEST(SettingsKinds, ListsAreParsedByTheirReaderUnderTheSettingsName) {
  const Values values =
      Values::load(Process::kGateway, {{"CALNDRO_TRUSTED_PROXIES", "10.0.0.0/8, fd00::/8"}});
  EXPECT_EQ(values.text("CALNDRO_TRUSTED_PROXIES"), "10.0.0.0/8, fd00::/8");
  const auto count = values.parsed("CALNDRO_TRUSTED_PROXIES", [](const std::string& list) {
    return std::count(list.begin(), list.end(), ',');
  });
  EXPECT_EQ(count, 1);
  try {
    (void)values.parsed("CALNDRO_TRUSTED_PROXIES", [](const std::string&) -> int {
      throw std::invalid_argument("CALNDRO_TRUSTED_PROXIES: 'fd00::/200' is not an address or CIDR block");
    });
    FAIL() << "no refusal";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "CALNDRO_TRUSTED_PROXIES: 'fd00::/200' is not an address or CIDR block");
  }
  try {
    (void)values.parsed("CALNDRO_ALLOWED_HOSTS",
                        [](const std::string&) -> int { throw std::invalid_argument("not a host"); });
    FAIL() << "no refusal";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "CALNDRO_ALLOWED_HOSTS: not a host");
  }
  expect_refused(Process::kGateway, "CALNDRO_TRUSTED_PROXIES", "10.0.0.1\t", "control characters");
}

TEST(SettingsKinds, Files) {
  const std::string file = temp_file("calndro-settings-file", "x\n");
  EXPECT_EQ(Values::load(Process::kNotify, {{"CALNDRO_SMTP_CA_FILE", file}}).text("CALNDRO_SMTP_CA_FILE"),
            file);
  expect_refused(Process::kNotify, "CALNDRO_SMTP_CA_FILE", file + ".missing",
                 "cannot read '" + file + ".missing'");
  expect_refused(Process::kNotify, "CALNDRO_SMTP_CA_FILE", std::filesystem::temp_directory_path().string(),
                 "cannot read");
  std::filesystem::remove(file);
}

TEST(SettingsKinds, UrlsAndTheirCredentials) {
  for (const char* good : {"postgresql://calndro@db:5432/calndro?sslmode=require", "postgres://db/x",
                           "host=/run/postgresql dbname=calndro"}) {
    EXPECT_EQ(refusal(Process::kAdmin, {{"CALNDRO_DATABASE_URL", good}}), "") << good;
  }
  expect_refused(Process::kAdmin, "CALNDRO_DATABASE_URL", "mysql://db/x", "PostgreSQL URI");
  expect_refused(Process::kAdmin, "CALNDRO_DATABASE_URL", "postgresql://", "PostgreSQL URI");
  const std::string typo =
      refusal(Process::kAdmin, {{"CALNDRO_DATABASE_URL", "postgresql:/calndro:s3cret@db/x"}});
  EXPECT_EQ(typo.find("s3cret"), std::string::npos) << typo;

  EXPECT_EQ(refusal(Process::kNotify, {{"CALNDRO_SMTP_URL", "smtps://mail.example.org:465"}}), "");
  expect_refused(Process::kNotify, "CALNDRO_SMTP_URL", "http://mail.example.org", "`smtp://host[:port]`");
  expect_refused(Process::kNotify, "CALNDRO_SMTP_URL", "smtp://", "`smtp://host[:port]`");
  const std::string smtp = refusal(Process::kNotify, {{"CALNDRO_SMTP_URL", "smtp://me:hunter2@mail x"}});
  EXPECT_NE(smtp.find("'smtp://***@mail x'"), std::string::npos) << smtp;
  EXPECT_EQ(smtp.find("hunter2"), std::string::npos) << smtp;

  // Events writes it into event.ics, notify into every mail: no process
  // takes a caller's base instead, so each checks its own at start-up.
  for (const Process process : {Process::kGateway, Process::kEvents, Process::kNotify}) {
    EXPECT_EQ(refusal(process, {{"CALNDRO_PUBLIC_BASE_URL", "https://cal.example.org/base/"}}), "");
    for (const char* bad : {"cal.example.org", "ftp://cal.example.org", "https://cal.example.org/?x=1",
                            "https://cal.example.org/#top", "https://user@cal.example.org"}) {
      expect_refused(process, "CALNDRO_PUBLIC_BASE_URL", bad, "without query or fragment");
    }
  }
}

TEST(SettingsKinds, ListenAddresses) {
  EXPECT_EQ(Values::load(Process::kEvents, {{"CALNDRO_EVENTS_METRICS_LISTEN", "[::1]:9101"}})
                .unless_off("CALNDRO_EVENTS_METRICS_LISTEN"),
            "[::1]:9101");
  EXPECT_EQ(Values::load(Process::kEvents, {{"CALNDRO_EVENTS_METRICS_LISTEN", "off"}})
                .unless_off("CALNDRO_EVENTS_METRICS_LISTEN"),
            std::nullopt);
  for (const char* bad : {"9101", "host:", ":9101", "host:65536", "::1:9101", "host:91x"}) {
    expect_refused(Process::kEvents, "CALNDRO_EVENTS_METRICS_LISTEN", bad, "port from 0 to 65535, or `off`");
  }
  // Port 0 is the kernel's choice (the process logs the port it got): the
  // tests listen so, with no race for a free port.
  EXPECT_EQ(refusal(Process::kGateway, {{"CALNDRO_HTTP_LISTEN", "127.0.0.1:0"}}), "");
  EXPECT_EQ(refusal(Process::kEvents, {{"CALNDRO_EVENTS_METRICS_LISTEN", "127.0.0.1:0"}}), "");
  EXPECT_EQ(refusal(Process::kEvents, {{"CALNDRO_EVENTS_LISTEN", "127.0.0.1:0"}}), "");
  expect_refused(Process::kGateway, "CALNDRO_HTTP_LISTEN", "off", "`host:port`");

  for (const char* good : {"0.0.0.0:50051", "[::]:50051", "unix:/run/calndro/events.sock", "localhost:1"}) {
    EXPECT_EQ(Values::load(Process::kEvents, {{"CALNDRO_EVENTS_LISTEN", good}}).text("CALNDRO_EVENTS_LISTEN"),
              good);
  }
  for (const char* bad : {"50051", "unix:", "events", "0.0.0.0:port"}) {
    expect_refused(Process::kEvents, "CALNDRO_EVENTS_LISTEN", bad, "`unix:path`");
  }
}

TEST(SettingsKinds, GrpcTargetsAndOff) {
  const Values gateway = Values::load(
      Process::kGateway,
      {{"CALNDRO_EVENTS_ADDR", "10.0.0.1:50051,10.0.0.2:50051"}, {"CALNDRO_NOTIFY_ADDR", "off"}});
  EXPECT_EQ(gateway.text("CALNDRO_EVENTS_ADDR"), "ipv4:10.0.0.1:50051,10.0.0.2:50051");
  EXPECT_EQ(gateway.unless_off("CALNDRO_NOTIFY_ADDR"), std::nullopt);
  EXPECT_EQ(Values::load(Process::kGateway, {{"CALNDRO_EVENTS_ADDR", "dns:///events:50051"}})
                .text("CALNDRO_EVENTS_ADDR"),
            "dns:///events:50051");
  expect_refused(Process::kGateway, "CALNDRO_EVENTS_ADDR", "events,notify", "IPv4 host:port items");
  expect_refused(Process::kGateway, "CALNDRO_EVENTS_ADDR", "events", "expected host:port");
  expect_refused(Process::kGateway, "CALNDRO_EVENTS_ADDR", "off", "expected host:port");
  // Events hands every notify to the notification service: it cannot do without.
  expect_refused(Process::kEvents, "CALNDRO_NOTIFY_ADDR", "off",
                 "cannot be off for events (only for gateway)");
}

TEST(SettingsValues, GettersMatchTheTable) {
  const Values events = Values::load(Process::kEvents, {});
  EXPECT_THROW((void)events.integer("CALNDRO_DATABASE_URL"), std::logic_error);
  EXPECT_THROW((void)events.text("CALNDRO_DB_POOL_SIZE"), std::logic_error);
  EXPECT_THROW((void)events.milliseconds("CALNDRO_DB_POOL_SIZE"), std::logic_error);
  EXPECT_THROW((void)events.integer("CALNDRO_RPC_TIMEOUT_MS"), std::logic_error);
  // Not a setting events reads: the table's "read by" column would lie.
  EXPECT_THROW((void)events.text("CALNDRO_SMTP_URL"), std::logic_error);
  EXPECT_THROW((void)events.text("CALNDRO_NO_SUCH_SETTING"), std::logic_error);
}

TEST(SettingsValues, EverySettingAProcessReadsIsAskedFor) {
  const Values admin = Values::load(Process::kAdmin, {});
  EXPECT_THROW(admin.expect_all_read(), std::logic_error);
  (void)admin.text("CALNDRO_DATABASE_URL");
  EXPECT_THROW(admin.expect_all_read(), std::logic_error);
  (void)admin.text("CALNDRO_LOG_KEY_FILE");
  EXPECT_NO_THROW(admin.expect_all_read());

  const Values gateway = Values::load(Process::kGateway, {});
  for (const Setting& setting : table()) {
    if (setting.readers.contains(Process::kGateway) &&
        setting.default_value.find('$') == std::string_view::npos && setting.name != "CALNDRO_HTTP_PORT" &&
        setting.name != "CALNDRO_EVENTS_PORT") {
      if (setting.kind == Kind::kInteger) {
        (void)gateway.integer(setting.name);
      } else if (setting.kind == Kind::kMilliseconds) {
        (void)gateway.milliseconds(setting.name);
      } else {
        (void)gateway.text(setting.name);
      }
    }
  }
  try {
    gateway.expect_all_read();
    FAIL() << "the addresses were never asked for";
  } catch (const std::logic_error& error) {
    EXPECT_NE(std::string(error.what()).find("CALNDRO_HTTP_LISTEN"), std::string::npos) << error.what();
    // Read for the defaults of the addresses: counted.
    EXPECT_EQ(std::string(error.what()).find("CALNDRO_HTTP_PORT"), std::string::npos) << error.what();
  }
}

TEST(SettingsValues, OneSettingFromTheEnvironment) {
  ::setenv("CALNDRO_GRPC_TLS_SERVER_NAME", "calndro.internal", 1);
  EXPECT_EQ(from_environment("CALNDRO_GRPC_TLS_SERVER_NAME"), "calndro.internal");
  ::setenv("CALNDRO_GRPC_TLS_SERVER_NAME", "bad\tname", 1);
  EXPECT_THROW((void)from_environment("CALNDRO_GRPC_TLS_SERVER_NAME"), Error);
  ::unsetenv("CALNDRO_GRPC_TLS_SERVER_NAME");
  EXPECT_EQ(from_environment("CALNDRO_GRPC_TLS_SERVER_NAME"), "");
  EXPECT_THROW((void)from_environment("CALNDRO_NO_SUCH_SETTING"), std::logic_error);
  ::setenv("CALNDRO_DB_POOL_SIZE", "9", 1);
  EXPECT_EQ(process_environment().at("CALNDRO_DB_POOL_SIZE"), "9");
  ::unsetenv("CALNDRO_DB_POOL_SIZE");
  EXPECT_EQ(process_environment().count("CALNDRO_DB_POOL_SIZE"), 0U);
}

TEST(SettingsMarkdown, OneRowPerSettingWithFiveColumns) {
  std::istringstream lines(markdown_table());
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "| variable | allowed values | default | read by | what it does |");
  std::getline(lines, line);
  std::size_t rows = 0;
  while (std::getline(lines, line)) {
    ASSERT_LT(rows, table().size());
    const Setting& setting = table()[rows++];
    EXPECT_TRUE(line.starts_with("| `" + std::string(setting.name) + "` | ")) << line;
    EXPECT_EQ(std::count(line.begin(), line.end(), '|'), 6) << line;
  }
  EXPECT_EQ(rows, table().size());
  const std::string text = markdown_table();
  EXPECT_NE(text.find("| `CALNDRO_EVENTS_LISTEN` | `host:port`, `[v6]:port` or `unix:path` | "
                      "`127.0.0.1:$CALNDRO_EVENTS_PORT` | events |"),
            std::string::npos);
  EXPECT_NE(
      text.find("| `CALNDRO_NOTIFY_ADDR` | `host:port`, IPv4 `host:port` items separated by commas, or a "
                "gRPC target (`dns:///host:port`), or `off` (gateway only) | "),
      std::string::npos);
  EXPECT_NE(text.find("| `CALNDRO_RETENTION_DAYS` | days from 1 to 3650 | `30` | events, notify |"),
            std::string::npos);
}

TEST(SplitHostPort, HostsAndPorts) {
  std::string host;
  int port = 0;
  EXPECT_TRUE(split_host_port("0.0.0.0:9000", host, port));
  EXPECT_EQ(host, "0.0.0.0");
  EXPECT_EQ(port, 9000);
  EXPECT_TRUE(split_host_port("[::1]:80", host, port));
  EXPECT_EQ(host, "::1");
  for (const char* bad : {"9000", "host:", ":80", "host:99999", "host:9x", "::1:80", "[]:80", "[::1:80"}) {
    EXPECT_FALSE(split_host_port(bad, host, port)) << bad;
  }
}

}  // namespace
}  // namespace calndro::settings
