// calndro-notify: wiring only. Reads the configuration, applies the schema,
// starts the dispatcher and serves NotificationService until SIGTERM.
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <thread>

#include "common/clock.h"
#include "common/config.h"
#include "common/crypto.h"
#include "common/db_pool.h"
#include "common/grpc_channel.h"
#include "common/grpc_server.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/migrations.h"
#include "common/runtime.h"
#include "common/signals.h"
#include "notify/dispatcher.h"
#include "notify/mail_composer.h"
#include "notify/notification_service.h"
#include "notify/outbox.h"
#include "notify/pg_database.h"
#include "notify/retention.h"
#include "notify/smtp_mailer.h"
#include "notify/token_store.h"

namespace calndro::notify {
const std::vector<calndro::Migration>& migrations();
}

namespace {

using namespace calndro;
using namespace calndro::notify;

struct Config {
  std::string listen;
  std::string metrics_listen;
  std::string database_url;
  int pool_size = 8;
  SmtpSettings smtp;
  ServiceSettings service;
  DispatcherOptions dispatcher;
  RetentionOptions retention;
  bool default_internal_token = false;
};

SmtpSettings read_smtp() {
  SmtpSettings smtp;
  smtp.url = config::string_or("CALNDRO_SMTP_URL", "smtp://127.0.0.1:1025");
  if (!smtp.url.starts_with("smtp://") && !smtp.url.starts_with("smtps://")) {
    throw std::runtime_error("CALNDRO_SMTP_URL must start with smtp:// or smtps://, got '" +
                             redact_url(smtp.url) + "'");
  }
  smtp.ca_file = config::string_or("CALNDRO_SMTP_CA_FILE", "");
  if (!smtp.ca_file.empty()) {
    std::FILE* ca = std::fopen(smtp.ca_file.c_str(), "r");
    if (ca == nullptr) {
      throw std::runtime_error("CALNDRO_SMTP_CA_FILE: cannot read '" + smtp.ca_file + "'");
    }
    std::fclose(ca);
  }
  smtp.plaintext_hosts = parse_plaintext_hosts(config::string_or("CALNDRO_SMTP_PLAINTEXT_HOSTS", ""));
  smtp.user = config::string_or("CALNDRO_SMTP_USER", "");
  smtp.password = config::string_or("CALNDRO_SMTP_PASSWORD", "");
  smtp.connect_timeout =
      std::chrono::milliseconds(config::int_or("CALNDRO_SMTP_CONNECT_TIMEOUT_MS", 10000, 100, 600000));
  smtp.timeout = std::chrono::milliseconds(config::int_or("CALNDRO_SMTP_TIMEOUT_MS", 60000, 100, 3600000));
  return smtp;
}

MailSettings read_mail_settings() {
  MailSettings mail;
  std::string error;
  const std::string from_text = config::string_or("CALNDRO_MAIL_FROM", "calndro <noreply@calndro.localhost>");
  auto from = parse_mailbox(from_text, error);
  if (!from) {
    throw std::runtime_error("CALNDRO_MAIL_FROM must be 'Name <user@example.org>' or an address, got '" +
                             from_text + "': " + error);
  }
  mail.default_from = *from;
  mail.subject_prefix = config::string_or("CALNDRO_SUBJECT_PREFIX", "[calndro] ");
  if (strip_controls(mail.subject_prefix) != mail.subject_prefix) {
    throw std::runtime_error("CALNDRO_SUBJECT_PREFIX must not contain control characters");
  }
  mail.public_base_url = config::string_or("CALNDRO_PUBLIC_BASE_URL", "");
  if (!mail.public_base_url.empty() && !valid_link_base(mail.public_base_url)) {
    throw std::runtime_error(
        "CALNDRO_PUBLIC_BASE_URL must be an http(s) URL without query or fragment, got '" +
        mail.public_base_url + "'");
  }
  return mail;
}

DispatcherOptions read_dispatcher_options(int token_days) {
  DispatcherOptions dispatcher;
  dispatcher.poll_interval =
      std::chrono::milliseconds(config::int_or("CALNDRO_DISPATCH_POLL_MS", 250, 10, 60000));
  dispatcher.workers = config::int_or("CALNDRO_DISPATCH_WORKERS", 1, 1, 16);
  dispatcher.retry.base =
      std::chrono::milliseconds(config::int_or("CALNDRO_RETRY_BASE_MS", 2000, 10, 3600000));
  dispatcher.retry.cap =
      std::chrono::milliseconds(config::int_or("CALNDRO_RETRY_MAX_MS", 600000, 10, 86400000));
  dispatcher.retry.max_attempts = config::int_or("CALNDRO_MAX_ATTEMPTS", 20, 1, 1000);
  dispatcher.token_days = token_days;  // tokens are minted when mails are sent
  return dispatcher;
}

// The replica's name in the outbox leases: CALNDRO_REPLICA_ID, else host
// name and listening port, which a process started again on the same host
// keeps (so it takes back its predecessor's leases at once).
std::string replica_id(const std::string& listen) {
  std::string id = config::string_or("CALNDRO_REPLICA_ID", "");
  if (!id.empty()) {
    return id;
  }
  std::array<char, 256> host{};
  if (gethostname(host.data(), host.size() - 1) != 0) {
    host[0] = '\0';
  }
  return std::string(host.data()) + ":" + listen.substr(listen.rfind(':') + 1);
}

Config read_config() {
  Config config;
  const int port = config::int_or("CALNDRO_NOTIFY_PORT", 50052, 0, 65535);
  config.listen = config::string_or("CALNDRO_NOTIFY_LISTEN", "127.0.0.1:" + std::to_string(port));
  config.metrics_listen = config::string_or("CALNDRO_NOTIFY_METRICS_LISTEN", "127.0.0.1:9102");
  config.database_url =
      config::string_or("CALNDRO_DATABASE_URL", "postgresql://calndro@127.0.0.1:5432/calndro");
  config.pool_size = config::int_or("CALNDRO_DB_POOL_SIZE", 8, 2, 256);
  config.smtp = read_smtp();
  config.service.mail = read_mail_settings();
  // Fails fast (std::invalid_argument naming the variable) on a bad entry.
  config.service.allowed_hosts = AllowedHosts::parse(config::string_or("CALNDRO_ALLOWED_HOSTS", ""),
                                                     config.service.mail.public_base_url);
  config.service.token_days = config::int_or("CALNDRO_TOKEN_DAYS", 5, 1, 3650);
  const config::InternalToken internal = config::internal_token(config.listen);
  config.service.internal_token = internal.value;
  config.default_internal_token = internal.is_default;
  (void)grpc_tls();  // bad TLS files stop the start here
  config.dispatcher = read_dispatcher_options(config.service.token_days);
  config.retention.days = config::int_or("CALNDRO_RETENTION_DAYS", 30, 1, 36500);
  config.retention.interval =
      std::chrono::seconds(config::int_or("CALNDRO_PURGE_INTERVAL_SECONDS", 3600, 0, 604800));
  config.dispatcher.owner = replica_id(config.listen);
  // Longer than the SMTP transaction can take, so no lease ends while its mail is being sent.
  config.dispatcher.lease = config.smtp.connect_timeout + config.smtp.timeout + std::chrono::seconds(30);
  if (config.pool_size <= config.dispatcher.workers) {
    throw std::runtime_error(
        "CALNDRO_DB_POOL_SIZE must exceed CALNDRO_DISPATCH_WORKERS (each worker holds a connection)");
  }
  return config;
}

// Counts delivery outcomes into `metrics` (through the dispatcher's hook).
std::function<void(DeliveryOutcome)> count_outcomes(Metrics& metrics) {
  auto& deliveries = prometheus::BuildCounter()
                         .Name("calndro_mail_delivery_attempts_total")
                         .Help("SMTP delivery attempts by outcome (sent, retry, gave_up)")
                         .Register(metrics.registry());
  auto* sent = &deliveries.Add({{"outcome", "sent"}});
  auto* retried = &deliveries.Add({{"outcome", "retry"}});
  auto* gave_up = &deliveries.Add({{"outcome", "gave_up"}});
  return [sent, retried, gave_up](DeliveryOutcome outcome) {
    switch (outcome) {
      case DeliveryOutcome::kSent:
        sent->Increment();
        break;
      case DeliveryOutcome::kRetry:
        retried->Increment();
        break;
      case DeliveryOutcome::kGaveUp:
        gave_up->Increment();
        break;
    }
  };
}

// The outbox depth and the pool's gauges, read at each scrape.
void watch_gauges(Metrics& metrics, DbPool& pool, const Stores& stores) {
  auto& outbox_depth = metrics.gauge("calndro_outbox_depth",
                                     "Mails queued and not yet sent (including those waiting for a retry)");
  register_pool_metrics(metrics, pool);
  metrics.on_scrape([&outbox_depth, stores] {
    try {
      std::int64_t depth = 0;
      stores.database.read([&](Transaction& tx) { depth = stores.outbox.depth(tx); });
      outbox_depth.Set(static_cast<double>(depth));
    } catch (const std::exception&) {
      outbox_depth.Set(-1);  // unknown: the database is unreachable
    }
  });
}

// libcurl, then the configuration (throws when it is wrong).
Config start_config() {
  init_curl();
  return read_config();
}

void apply_schema(const Config& config) {
  if (config.default_internal_token) {
    log::warn("CALNDRO_INTERNAL_TOKEN is not set: using the well-known local default; set it in production");
  }
  apply_migrations_when_reachable(config.database_url, "notify", notify::migrations());
}

// The stores, the dispatcher, the purge and the service over one pool,
// served until SIGTERM; the process's exit code.
int serve(Config config) {
  DbPool pool(
      config.database_url, config.pool_size,
      [](pqxx::connection& connection) {
        PgTokenStore::prepare(connection);
        PgOutbox::prepare(connection);
      },
      std::chrono::seconds(5));
  PgDatabase jobs_database(pool, PgDatabase::StaleConnections::kRetryOnce);
  PgDatabase rpc_database(pool, PgDatabase::StaleConnections::kRetryWhileFast);
  PgOutbox outbox;
  PgTokenStore tokens;
  const Stores jobs{jobs_database, outbox, tokens};
  SystemClock clock;
  SystemRandom random;
  SmtpMailer mailer(config.smtp);
  Metrics metrics;
  config.dispatcher.on_outcome = count_outcomes(metrics);
  watch_gauges(metrics, pool, jobs);
  if (config.metrics_listen != "off") {
    metrics.serve(config.metrics_listen);  // a metrics port clash is logged, not fatal
  }
  Dispatcher dispatcher(jobs, mailer, random, clock, config.service.mail, config.dispatcher);
  NotificationServiceImpl service({rpc_database, outbox, tokens}, config.service,
                                  [&dispatcher] { dispatcher.wake(); });
  log::info("starting", {{"listen", config.listen},
                         {"database", redact_url(config.database_url)},
                         {"smtp", redact_url(config.smtp.url)},
                         {"mail_from", config.service.mail.default_from.address},
                         {"token_days", config.service.token_days},
                         {"dispatch_workers", config.dispatcher.workers},
                         {"replica", config.dispatcher.owner}});
  dispatcher.start();
  RetentionJob retention(jobs, config.retention);
  retention.start();

  GrpcServerOptions options;
  options.address = config.listen;
  options.services = {&service};
  options.service_names = {kServiceName};
  options.on_shutdown = [&dispatcher, &retention] {
    dispatcher.stop();
    retention.stop();
  };
  options.metrics = &metrics;
  options.readiness_check = [&pool] { return pool.reachable(); };
  const int code = run_grpc_server(std::move(options));
  dispatcher.stop();
  retention.stop();
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  return server_main(
      argc, argv, "calndro-notify", "calndro-notify", [] { return probe_grpc_health(start_config().listen); },
      [] {
        Config config = start_config();
        apply_schema(config);
        return serve(std::move(config));
      });
}
