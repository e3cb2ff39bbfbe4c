// calndro-events: wiring only. Reads configuration, applies the `events`
// migrations, builds the dependencies and serves until SIGTERM.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cstdio>
#include <optional>

#include "common/audit/log_signing_key.h"
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
#include "events/change_feed.h"
#include "events/deadline_mails.h"
#include "events/event_service.h"
#include "events/event_streams.h"
#include "events/log_sealer.h"
#include "events/migrations.h"
#include "events/outbox_relay.h"
#include "events/pg_database.h"
#include "events/retention_purge.h"
#include "events/stream_census.h"
#include "events/watch_serving.h"
#include "events/webhook_relay.h"

namespace {

namespace config = calndro::config;
namespace events = calndro::events;
using calndro::settings::Values;

// What the service reads from its settings (common/base/settings_table.cc).
struct Settings {
  std::string listen;
  std::optional<std::string> metrics_listen;  // nullopt: off
  std::string notify_target;
  std::string database_url;
  int pool_size = 8;
  std::chrono::milliseconds rpc_timeout{5000};
  std::string internal_token;
  calndro::GrpcTls tls;
  events::LoginLimits login_limits;
  std::chrono::milliseconds hashing_wait{1000};
  std::chrono::seconds email_token_cache_ttl{0};
  events::EventServiceOptions service;
  std::chrono::hours retention{24 * 30};
  std::chrono::seconds purge_interval{3600};  // zero: no purge job
  events::OutboxRelayOptions relay;
  events::DeadlineMailOptions deadline_mails;
  std::string log_key_file;
  calndro::audit::MissingKey log_key_missing = calndro::audit::MissingKey::kRefuse;
  events::LogSealerOptions sealer;
  events::StreamOptions streams;
  events::WebhookRelayOptions webhook_relay;
};

calndro::audit::MissingKey missing_key_policy(const std::string& text) {
  if (text == "create") {
    return calndro::audit::MissingKey::kCreate;
  }
  if (text != "refuse") {
    throw std::runtime_error("CALNDRO_LOG_KEY_MISSING: must be `refuse` or `create`, not '" + text + "'");
  }
  return calndro::audit::MissingKey::kRefuse;
}

void read_connections(const Values& values, Settings& settings) {
  settings.listen = values.text("CALNDRO_EVENTS_LISTEN");
  settings.metrics_listen = values.unless_off("CALNDRO_EVENTS_METRICS_LISTEN");
  settings.notify_target = values.text("CALNDRO_NOTIFY_ADDR");
  settings.database_url = values.text("CALNDRO_DATABASE_URL");
  settings.pool_size = values.integer("CALNDRO_DB_POOL_SIZE");
  settings.rpc_timeout = values.milliseconds("CALNDRO_RPC_TIMEOUT_MS");
  const config::InternalToken internal = config::internal_token(values, settings.listen);
  settings.internal_token = internal.value;
  settings.tls = calndro::read_grpc_tls(values);
  settings.service.public_base_url = values.text("CALNDRO_PUBLIC_BASE_URL");
  if (internal.is_default) {
    calndro::log::warn("CALNDRO_INTERNAL_TOKEN is not set; using the local default (fine for a laptop only)");
  }
}

void read_policies(const Values& values, Settings& settings) {
  settings.login_limits.failures_per_account = values.integer("CALNDRO_LOGIN_FAILURES_PER_ACCOUNT");
  settings.login_limits.failures_per_address = values.integer("CALNDRO_LOGIN_FAILURES_PER_ADDRESS");
  settings.login_limits.window = values.duration<std::chrono::seconds>("CALNDRO_LOGIN_WINDOW_SECONDS");
  settings.hashing_wait = values.milliseconds("CALNDRO_PASSWORD_CHECK_WAIT_MS");
  // Resolved email tokens, so a link opened again skips the hop to the
  // notification service (docs/PERFORMANCE.md); bounded, and never kept past
  // a token's expiry. Off by default, and at most a minute: a token revoked
  // (calndro-admin token revoke --event, user deactivate) stays usable on a
  // replica that resolved it for up to this many seconds.
  settings.email_token_cache_ttl = values.duration<std::chrono::seconds>("CALNDRO_EMAIL_TOKEN_CACHE_SECONDS");
  settings.service.api_token_lifetime = values.duration<std::chrono::hours>("CALNDRO_API_TOKEN_DAYS");
  settings.service.mails_per_hour = values.integer("CALNDRO_NOTIFY_MAILS_PER_HOUR");
  settings.retention = values.duration<std::chrono::hours>("CALNDRO_RETENTION_DAYS");
  settings.purge_interval = values.duration<std::chrono::seconds>("CALNDRO_PURGE_INTERVAL_SECONDS");
  settings.relay.poll = values.milliseconds("CALNDRO_NOTIFY_RELAY_POLL_MS");
  settings.relay.max_backoff =
      values.duration<std::chrono::seconds>("CALNDRO_NOTIFY_RELAY_MAX_BACKOFF_SECONDS");
  // A claim outlives one call to the notification service.
  settings.relay.lease = std::max(settings.relay.lease, 2 * settings.rpc_timeout);
  settings.deadline_mails.poll = values.milliseconds("CALNDRO_DEADLINE_MAIL_POLL_MS");
  settings.deadline_mails.mails_per_hour = settings.service.mails_per_hour;
  settings.log_key_file = values.text("CALNDRO_LOG_KEY_FILE");
  settings.log_key_missing = missing_key_policy(values.text("CALNDRO_LOG_KEY_MISSING"));
  settings.sealer.pause = values.milliseconds("CALNDRO_LOG_SEAL_POLL_MS");
  settings.streams.per_caller = static_cast<std::size_t>(values.integer("CALNDRO_STREAMS_PER_CALLER"));
  settings.streams.heartbeat = values.duration<std::chrono::seconds>("CALNDRO_STREAM_HEARTBEAT_SECONDS");
  settings.streams.recheck = values.duration<std::chrono::seconds>("CALNDRO_STREAM_RECHECK_SECONDS");
  settings.webhook_relay.poll = values.milliseconds("CALNDRO_WEBHOOK_RELAY_POLL_MS");
  if (!settings.service.public_base_url.empty()) {
    settings.webhook_relay.public_base_url = settings.service.public_base_url;
  }
}

Settings read_settings() {
  const Values values = Values::load(calndro::settings::Process::kEvents);
  Settings settings;
  read_connections(values, settings);
  read_policies(values, settings);
  values.expect_all_read();
  return settings;
}

// The relay's backlog: accepted notifies not yet handed to the notification
// service, and how long the oldest has waited; -1 when the database is
// unreachable.
void register_relay_metrics(calndro::Metrics& metrics, events::Database& database,
                            const calndro::Clock& clock) {
  auto& pending = metrics.gauge("calndro_notify_relay_backlog",
                                "Accepted notifies not yet handed to the notification service");
  auto& oldest =
      metrics.gauge("calndro_notify_relay_oldest_age_seconds",
                    "Age of the oldest notify not yet handed to the notification service (0: none)");
  metrics.on_scrape([&pending, &oldest, &database, &clock] {
    try {
      events::NotificationBacklog backlog;
      const absl::Status read =
          database.run(calndro::CallContext::background(), events::Atomicity::kPerStatement,
                       [&](events::Repositories& stores) {
                         backlog = stores.outbox.backlog();
                         return absl::OkStatus();
                       });
      if (!read.ok()) {
        // Unknown this scrape, as when unreachable; the next scrape asks again.
        pending.Set(-1);
        oldest.Set(-1);
        return;
      }
      pending.Set(static_cast<double>(backlog.pending));
      oldest.Set(backlog.oldest ? std::chrono::duration<double>(clock.now() - *backlog.oldest).count() : 0.0);
    } catch (const std::exception&) {
      pending.Set(-1);
      oldest.Set(-1);
    }
  });
}

calndro::audit::LogSigningKey load_log_key(const Settings& settings) {
  auto key = calndro::audit::LogSigningKey::load(settings.log_key_file, settings.log_key_missing);
  if (!key.ok()) {
    throw std::runtime_error("CALNDRO_LOG_KEY_FILE: " + std::string(key.status().message()));
  }
  calndro::log::info("log heads are signed", {{"key_id", key->key_id()}});
  return *std::move(key);
}

// Serves `service` until SIGTERM, with WatchEvent's streams and the change
// feed that tells them of new versions. Declared after the service, they
// end (and their threads stop) before it goes.
int serve_streams_too(const Settings& settings, events::EventServiceImpl& service, calndro::Metrics& metrics,
                      calndro::DbPool& pool, events::Database& database) {
  calndro::SystemRandom random;
  events::DatabaseStreamCensus census(database, events::replica_name(random));
  events::EventStreams streams(settings.streams, &census);
  events::WatchServing watch_serving(service, streams);
  const events::ChangeFeed feed(
      settings.database_url,
      {.changed = [&streams](std::int64_t id, std::int64_t version) { streams.changed(id, version); },
       .resync = [&streams] { streams.resync(); }});
  auto& open_streams = metrics.gauge("calndro_event_streams_open", "WatchEvent streams open on this replica");
  metrics.on_scrape(
      [&streams, &open_streams] { open_streams.Set(static_cast<double>(streams.open_streams())); });
  if (settings.metrics_listen) {
    metrics.serve(*settings.metrics_listen);  // a metrics port clash is logged, not fatal
  }
  calndro::GrpcServerOptions options;
  options.metrics = &metrics;
  options.readiness_check = [&pool] { return pool.reachable(); };
  options.address = settings.listen;
  options.services = {&service};
  options.async_calls = {&watch_serving};
  // Streams never end by themselves: they end now, and their clients
  // reconnect to a replica that serves.
  options.on_shutdown = [&streams] {
    streams.end_all(grpc::Status(grpc::StatusCode::UNAVAILABLE, "This replica is stopping; reconnect."));
  };
  options.service_names = {"calndro.events.v1.EventService"};
  return calndro::run_grpc_server(options);
}

// Builds the service's dependencies and serves until SIGTERM.
int serve(const Settings& settings) {
  const calndro::audit::LogSigningKey log_key = load_log_key(settings);
  calndro::SystemClock clock;
  calndro::SystemRandom random;
  calndro::DbPool pool(settings.database_url, settings.pool_size, events::PgDatabase::prepare,
                       std::chrono::seconds(5));
  events::PgDatabase database(pool);
  const auto notify_channel = calndro::make_balanced_channel(settings.notify_target);
  events::GrpcNotificationClient notifications(notify_channel, settings.internal_token, settings.rpc_timeout);
  events::GrpcWebhookEndpoints webhook_endpoints(notify_channel, settings.internal_token,
                                                 settings.rpc_timeout);
  events::CredentialCache credential_cache(clock, std::chrono::seconds(60), 10000);
  events::EmailTokenCache token_cache(clock, settings.email_token_cache_ttl, 10000);
  events::LoginThrottle login_throttle(clock, settings.login_limits);
  events::Authenticator authenticator(clock, database, credential_cache, login_throttle, notifications,
                                      &token_cache, settings.hashing_wait);
  events::OutboxRelay relay(database, notifications, clock, settings.relay);
  events::EventServiceOptions service_options = settings.service;
  service_options.notify_committed = [&relay] { relay.wake(); };
  service_options.internal_token = settings.internal_token;
  service_options.webhook_endpoints = &webhook_endpoints;
  service_options.log_key.set_alg("Ed25519");
  service_options.log_key.set_key_id(log_key.key_id());
  service_options.log_key.set_public_key(log_key.public_key_base64());
  events::EventServiceImpl service(database, authenticator, clock, random, service_options);
  const events::WebhookRelay webhook_relay(database, webhook_endpoints, settings.webhook_relay);
  events::DeadlineMails deadline_mails(database, clock, random, settings.deadline_mails,
                                       [&relay] { relay.wake(); });
  std::optional<events::RetentionPurge> purge;
  if (settings.purge_interval.count() > 0) {
    purge.emplace(database, clock,
                  events::RetentionPurgeOptions{settings.retention, settings.service.idempotency_window,
                                                settings.purge_interval});
  } else {
    calndro::log::info("retention purge job off (CALNDRO_PURGE_INTERVAL_SECONDS=0)");
  }

  calndro::Metrics metrics;
  auto& seal_lag = metrics.histogram("calndro_log_seal_lag_seconds",
                                     "From an audit log entry's commit to its sealing into the chain",
                                     {0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10});
  const events::LogSealer sealer(database, clock, log_key, settings.sealer, [&seal_lag](calndro::Micros lag) {
    seal_lag.Observe(std::chrono::duration<double>(lag).count());
  });
  calndro::register_pool_metrics(metrics, pool);
  register_relay_metrics(metrics, database, clock);
  return serve_streams_too(settings, service, metrics, pool, database);
}

}  // namespace

int main(int argc, char** argv) {
  return calndro::server_main(
      argc, argv, "calndro-events", "events",
      [] {
        const Values values = Values::load(calndro::settings::Process::kEvents);
        calndro::use_grpc_tls(calndro::read_grpc_tls(values));
        return calndro::probe_grpc_health(values.text("CALNDRO_EVENTS_LISTEN"));
      },
      [] {
        const Settings settings = read_settings();
        calndro::use_grpc_tls(settings.tls);
        calndro::apply_migrations_when_reachable(settings.database_url, events::kSchema,
                                                 events::migrations());
        return serve(settings);
      });
}
