// calndro-events: wiring only. Reads configuration, applies the `events`
// migrations, builds the dependencies and serves until SIGTERM.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cstdio>

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
#include "events/event_service.h"
#include "events/migrations.h"
#include "events/outbox_relay.h"
#include "events/pg_database.h"
#include "events/retention_purge.h"

namespace {

namespace config = calndro::config;
namespace events = calndro::events;

// How long a revoked email token may still work (docs/OPERATIONS.md).
constexpr int kMaxEmailTokenCacheSeconds = 60;

// Everything the service reads from CALNDRO_* variables.
struct Settings {
  std::string listen;
  std::string metrics_listen;
  std::string notify_target;
  std::string database_url;
  int pool_size = 8;
  std::chrono::milliseconds rpc_timeout{5000};
  std::string internal_token;
  events::LoginLimits login_limits;
  std::chrono::milliseconds hashing_wait{1000};
  std::chrono::seconds email_token_cache_ttl{0};
  events::EventServiceOptions service;
  std::chrono::hours retention{24 * 30};
  std::chrono::seconds purge_interval{3600};
  events::OutboxRelayOptions relay;
};

std::string listen_address() {
  const std::string events_port = std::to_string(config::int_or("CALNDRO_EVENTS_PORT", 50051, 0, 65535));
  return config::string_or("CALNDRO_EVENTS_LISTEN", "127.0.0.1:" + events_port);
}

void read_connections(Settings& settings) {
  settings.metrics_listen = config::string_or("CALNDRO_EVENTS_METRICS_LISTEN", "127.0.0.1:9101");
  const std::string notify_port = std::to_string(config::int_or("CALNDRO_NOTIFY_PORT", 50052, 1, 65535));
  const std::string notify_address = config::string_or("CALNDRO_NOTIFY_ADDR", "127.0.0.1:" + notify_port);
  std::string target_error;
  const auto notify_target = calndro::grpc_target(notify_address, target_error);
  if (!notify_target) {
    throw std::runtime_error("CALNDRO_NOTIFY_ADDR: " + target_error);
  }
  settings.notify_target = *notify_target;
  settings.database_url =
      config::string_or("CALNDRO_DATABASE_URL", "postgresql://calndro@127.0.0.1:5432/calndro");
  settings.pool_size = config::int_or("CALNDRO_DB_POOL_SIZE", 8, 1, 256);
  settings.rpc_timeout =
      std::chrono::milliseconds(config::int_or("CALNDRO_RPC_TIMEOUT_MS", 5000, 50, 600000));
  const config::InternalToken internal = config::internal_token(settings.listen);
  settings.internal_token = internal.value;
  (void)calndro::grpc_tls();  // bad TLS files stop the start here
  if (internal.is_default) {
    calndro::log::warn("CALNDRO_INTERNAL_TOKEN is not set; using the local default (fine for a laptop only)");
  }
}

void read_policies(Settings& settings) {
  settings.login_limits.failures_per_account =
      config::int_or("CALNDRO_LOGIN_FAILURES_PER_ACCOUNT", 10, 1, 1000000);
  settings.login_limits.failures_per_address =
      config::int_or("CALNDRO_LOGIN_FAILURES_PER_ADDRESS", 100, 1, 1000000);
  settings.login_limits.window =
      std::chrono::seconds(config::int_or("CALNDRO_LOGIN_WINDOW_SECONDS", 300, 1, 86400));
  settings.hashing_wait =
      std::chrono::milliseconds(config::int_or("CALNDRO_PASSWORD_CHECK_WAIT_MS", 1000, 0, 60000));
  // Resolved email tokens, so a link opened again skips the hop to the
  // notification service (docs/PERFORMANCE.md); bounded, and never kept past
  // a token's expiry. Off by default, and at most a minute: a token revoked
  // (calndro-admin token revoke --event, user deactivate) stays usable on a
  // replica that resolved it for up to this many seconds.
  settings.email_token_cache_ttl = std::chrono::seconds(
      config::int_or("CALNDRO_EMAIL_TOKEN_CACHE_SECONDS", 0, 0, kMaxEmailTokenCacheSeconds));
  settings.service.api_token_lifetime =
      std::chrono::hours(24 * config::int_or("CALNDRO_API_TOKEN_DAYS", 30, 1, 3650));
  settings.service.mails_per_hour = config::int_or("CALNDRO_NOTIFY_MAILS_PER_HOUR", 100, 1, 1000000);
  settings.retention = std::chrono::hours(24 * config::int_or("CALNDRO_RETENTION_DAYS", 30, 1, 3650));
  settings.purge_interval =
      std::chrono::seconds(config::int_or("CALNDRO_PURGE_INTERVAL_SECONDS", 3600, 1, 86400));
  settings.relay.poll =
      std::chrono::milliseconds(config::int_or("CALNDRO_NOTIFY_RELAY_POLL_MS", 1000, 10, 600000));
  settings.relay.max_backoff =
      std::chrono::seconds(config::int_or("CALNDRO_NOTIFY_RELAY_MAX_BACKOFF_SECONDS", 60, 1, 3600));
  // A claim outlives one call to the notification service.
  settings.relay.lease = std::max(settings.relay.lease, 2 * settings.rpc_timeout);
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
      (void)database.run(events::Atomicity::kPerStatement, [&](events::Repositories& stores) {
        backlog = stores.outbox.backlog();
        return absl::OkStatus();
      });
      pending.Set(static_cast<double>(backlog.pending));
      oldest.Set(backlog.oldest ? std::chrono::duration<double>(clock.now() - *backlog.oldest).count() : 0.0);
    } catch (const std::exception&) {
      pending.Set(-1);
      oldest.Set(-1);
    }
  });
}

// Builds the service's dependencies and serves until SIGTERM.
int serve(const Settings& settings) {
  calndro::SystemClock clock;
  calndro::SystemRandom random;
  calndro::DbPool pool(settings.database_url, settings.pool_size, events::PgDatabase::prepare,
                       std::chrono::seconds(5));
  events::PgDatabase database(pool);
  events::GrpcNotificationClient notifications(calndro::make_balanced_channel(settings.notify_target),
                                               settings.internal_token, settings.rpc_timeout);
  events::CredentialCache credential_cache(clock, std::chrono::seconds(60), 10000);
  events::EmailTokenCache token_cache(clock, settings.email_token_cache_ttl, 10000);
  events::LoginThrottle login_throttle(clock, settings.login_limits);
  events::Authenticator authenticator(clock, database, credential_cache, login_throttle, notifications,
                                      &token_cache, settings.hashing_wait);
  events::OutboxRelay relay(database, notifications, clock, settings.relay);
  events::EventServiceOptions service_options = settings.service;
  service_options.notify_committed = [&relay] { relay.wake(); };
  service_options.internal_token = settings.internal_token;
  events::EventServiceImpl service(database, authenticator, clock, random, service_options);
  events::RetentionPurge purge(
      database, clock, {settings.retention, settings.service.idempotency_window, settings.purge_interval});

  calndro::Metrics metrics;
  calndro::register_pool_metrics(metrics, pool);
  register_relay_metrics(metrics, database, clock);
  if (settings.metrics_listen != "off") {
    metrics.serve(settings.metrics_listen);  // a metrics port clash is logged, not fatal
  }
  calndro::GrpcServerOptions options;
  options.metrics = &metrics;
  options.readiness_check = [&pool] { return pool.reachable(); };
  options.address = settings.listen;
  options.services = {&service};
  options.service_names = {"calndro.events.v1.EventService"};
  return calndro::run_grpc_server(options);
}

}  // namespace

int main(int argc, char** argv) {
  return calndro::server_main(
      argc, argv, "calndro-events", "events", [] { return calndro::probe_grpc_health(listen_address()); },
      [] {
        Settings settings;
        settings.listen = listen_address();
        read_connections(settings);
        read_policies(settings);
        calndro::apply_migrations_when_reachable(settings.database_url, events::kSchema,
                                                 events::migrations());
        return serve(settings);
      });
}
