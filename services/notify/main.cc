// calndro-notify: wiring only. Reads the configuration, applies the schema,
// starts the dispatcher and serves NotificationService until SIGTERM.
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <thread>

#include "common/base/config.h"
#include "common/base/log.h"
#include "common/base/runtime.h"
#include "common/base/settings.h"
#include "common/base/signals.h"
#include "common/crypto/crypto.h"
#include "common/db/db_pool.h"
#include "common/db/migrations.h"
#include "common/db/pool_metrics.h"
#include "common/grpc/grpc_channel.h"
#include "common/metrics/metrics.h"
#include "common/rpc/grpc_server.h"
#include "common/text/clock.h"
#include "notify/dispatcher.h"
#include "notify/mail_composer.h"
#include "notify/notification_service.h"
#include "notify/outbox.h"
#include "notify/pg_database.h"
#include "notify/retention.h"
#include "notify/smtp_mailer.h"
#include "notify/token_store.h"
#include "notify/webhook_dispatcher.h"
#include "notify/webhook_service.h"
#include "notify/webhook_store.h"

namespace calndro::notify {
const std::vector<calndro::Migration>& migrations();
}

namespace {

using namespace calndro;
using namespace calndro::notify;

using calndro::settings::Values;

struct Config {
  std::string listen;
  std::optional<std::string> metrics_listen;  // nullopt: off
  std::string database_url;
  int pool_size = 8;
  GrpcTls tls;
  SmtpSettings smtp;
  ServiceSettings service;
  DispatcherOptions dispatcher;
  RetentionOptions retention;
  bool default_internal_token = false;
  std::string webhook_key_file;
  MissingKey webhook_key_missing = MissingKey::kRefuse;
  WebhookDispatcherOptions webhooks;
};

SmtpSettings read_smtp(const Values& values) {
  SmtpSettings smtp;
  smtp.url = values.text("CALNDRO_SMTP_URL");
  smtp.ca_file = values.text("CALNDRO_SMTP_CA_FILE");
  smtp.plaintext_hosts = values.parsed("CALNDRO_SMTP_PLAINTEXT_HOSTS", parse_plaintext_hosts);
  smtp.user = values.text("CALNDRO_SMTP_USER");
  smtp.password = values.text("CALNDRO_SMTP_PASSWORD");
  smtp.connect_timeout = values.milliseconds("CALNDRO_SMTP_CONNECT_TIMEOUT_MS");
  smtp.timeout = values.milliseconds("CALNDRO_SMTP_TIMEOUT_MS");
  return smtp;
}

MailSettings read_mail_settings(const Values& values) {
  MailSettings mail;
  mail.default_from = values.parsed("CALNDRO_MAIL_FROM", [](const std::string& text) {
    std::string error;
    auto from = parse_mailbox(text, error);
    if (!from) {
      throw std::invalid_argument("must be 'Name <user@example.org>' or an address, got '" + text +
                                  "': " + error);
    }
    return *from;
  });
  mail.subject_prefix = values.text("CALNDRO_SUBJECT_PREFIX");
  mail.public_base_url = values.text("CALNDRO_PUBLIC_BASE_URL");
  return mail;
}

DispatcherOptions read_dispatcher_options(const Values& values, int token_days) {
  DispatcherOptions dispatcher;
  dispatcher.poll_interval = values.milliseconds("CALNDRO_DISPATCH_POLL_MS");
  dispatcher.workers = values.integer("CALNDRO_DISPATCH_WORKERS");
  dispatcher.retry.base = values.milliseconds("CALNDRO_RETRY_BASE_MS");
  dispatcher.retry.cap = values.milliseconds("CALNDRO_RETRY_MAX_MS");
  dispatcher.retry.max_attempts = values.integer("CALNDRO_MAX_ATTEMPTS");
  dispatcher.token_days = token_days;  // tokens are minted when mails are sent
  return dispatcher;
}

// The replica's name in the outbox leases: CALNDRO_REPLICA_ID, else host
// name and listening port, which a process started again on the same host
// keeps (so it takes back its predecessor's leases at once).
std::string replica_id(const Values& values, const std::string& listen) {
  std::string id = values.text("CALNDRO_REPLICA_ID");
  if (!id.empty()) {
    return id;
  }
  std::array<char, 256> host{};
  if (gethostname(host.data(), host.size() - 1) != 0) {
    host[0] = '\0';
  }
  return std::string(host.data()) + ":" + listen.substr(listen.rfind(':') + 1);
}

// Where the service listens and what it talks to.
void read_connections(const Values& values, Config& config) {
  config.listen = values.text("CALNDRO_NOTIFY_LISTEN");
  config.metrics_listen = values.unless_off("CALNDRO_NOTIFY_METRICS_LISTEN");
  config.database_url = values.text("CALNDRO_DATABASE_URL");
  config.pool_size = values.integer("CALNDRO_DB_POOL_SIZE");
  config.smtp = read_smtp(values);
  const config::InternalToken internal = config::internal_token(values, config.listen);
  config.service.internal_token = internal.value;
  config.default_internal_token = internal.is_default;
  config.tls = read_grpc_tls(values);
}

// Webhooks (SPEC §11): the key of their secrets, the allow list, the retries.
void read_webhook_settings(const Values& values, Config& config) {
  config.webhook_key_file = values.text("CALNDRO_WEBHOOK_KEY_FILE");
  const std::string& missing = values.text("CALNDRO_WEBHOOK_KEY_MISSING");
  if (missing != "refuse" && missing != "create") {
    throw settings::Error("CALNDRO_WEBHOOK_KEY_MISSING",
                          "must be `refuse` or `create`, not '" + missing + "'");
  }
  config.webhook_key_missing = missing == "create" ? MissingKey::kCreate : MissingKey::kRefuse;
  config.webhooks.allow = values.parsed("CALNDRO_WEBHOOK_ALLOW", AddressAllowList::parse);
  config.webhooks.first_retry = values.milliseconds("CALNDRO_WEBHOOK_FIRST_RETRY_MS");
  config.webhooks.workers = values.integer("CALNDRO_WEBHOOK_WORKERS");
  config.webhooks.poll = values.milliseconds("CALNDRO_WEBHOOK_POLL_MS");
}

Config read_config() {
  const Values values = Values::load(calndro::settings::Process::kNotify);
  Config config;
  read_connections(values, config);
  config.service.mail = read_mail_settings(values);
  config.service.token_days =
      static_cast<int>(values.duration<std::chrono::days>("CALNDRO_TOKEN_DAYS").count());
  config.dispatcher = read_dispatcher_options(values, config.service.token_days);
  config.retention.days =
      static_cast<int>(values.duration<std::chrono::days>("CALNDRO_RETENTION_DAYS").count());
  config.retention.interval = values.duration<std::chrono::seconds>("CALNDRO_PURGE_INTERVAL_SECONDS");
  config.dispatcher.owner = replica_id(values, config.listen);
  read_webhook_settings(values, config);
  config.webhooks.owner = config.dispatcher.owner;
  // Longer than the SMTP transaction can take, so no lease ends while its mail is being sent.
  config.dispatcher.lease = config.smtp.connect_timeout + config.smtp.timeout + std::chrono::seconds(30);
  if (config.pool_size <= config.dispatcher.workers) {
    throw settings::Error("CALNDRO_DB_POOL_SIZE", "must be more than CALNDRO_DISPATCH_WORKERS (" +
                                                      std::to_string(config.dispatcher.workers) +
                                                      "): each worker holds a connection");
  }
  values.expect_all_read();
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
      const absl::Status read =
          stores.database.run(CallContext::background(), Atomicity::kReadOnly, [&](Transaction& tx) {
            depth = stores.outbox.depth(tx);
            return absl::OkStatus();
          });
      // Refused: unknown this scrape, as when unreachable; the next asks again.
      outbox_depth.Set(read.ok() ? static_cast<double>(depth) : -1);
    } catch (const std::exception&) {
      outbox_depth.Set(-1);  // unknown: the database is unreachable
    }
  });
}

// libcurl, then the configuration (throws when it is wrong) and its TLS.
Config start_config() {
  init_curl();
  Config config = read_config();
  use_grpc_tls(config.tls);
  return config;
}

void apply_schema(const Config& config) {
  if (config.default_internal_token) {
    log::warn("CALNDRO_INTERNAL_TOKEN is not set: using the well-known local default; set it in production");
  }
  apply_migrations_when_reachable(config.database_url, "notify", notify::migrations());
}

SecretBox load_webhook_key(const Config& config) {
  auto box = SecretBox::load(config.webhook_key_file, config.webhook_key_missing);
  if (!box.ok()) {
    throw std::runtime_error("CALNDRO_WEBHOOK_KEY_FILE: " + std::string(box.status().message()));
  }
  return *std::move(box);
}

// The webhook side (SPEC §11): its store, its dispatcher and its RPCs.
struct Webhooks {
  Webhooks(const Config& config, SecretBox key, Database& jobs, Database& rpcs, RandomSource& random,
           const Clock& clock)
      : box(std::move(key)),
        dispatcher({jobs, store, poster, resolver, box, clock, random}, config.webhooks),
        service({rpcs, store, box, random, resolver},
                {.internal_token = config.service.internal_token, .allow = config.webhooks.allow},
                [this] { dispatcher.wake(); }) {}

  SecretBox box;
  PgWebhookStore store;
  SystemResolver resolver;
  CurlWebhookPoster poster;
  WebhookDispatcher dispatcher;
  WebhookServiceImpl service;
};

// The stores, the dispatcher, the purge and the service over one pool,
// served until SIGTERM; the process's exit code.
int serve(Config config) {
  // Before anything runs: a missing key stops the process at once.
  SecretBox webhook_key = load_webhook_key(config);
  DbPool pool(
      config.database_url, config.pool_size,
      [](pqxx::connection& connection) {
        PgTokenStore::prepare(connection);
        PgOutbox::prepare(connection);
        PgWebhookStore::prepare(connection);
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
  if (config.metrics_listen) {
    metrics.serve(*config.metrics_listen);  // a metrics port clash is logged, not fatal
  }
  Dispatcher dispatcher(jobs, mailer, random, clock, config.service.mail, config.dispatcher);
  Webhooks webhooks(config, std::move(webhook_key), jobs_database, rpc_database, random, clock);
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
  webhooks.dispatcher.start();
  RetentionJob retention(jobs, config.retention, &webhooks.store);
  retention.start();

  GrpcServerOptions options;
  options.address = config.listen;
  options.services = {&service, &webhooks.service};
  options.service_names = {kServiceName, kWebhookServiceName};
  options.on_shutdown = [&dispatcher, &retention, &webhooks] {
    dispatcher.stop();
    webhooks.dispatcher.stop();
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
