// calndro-events: wiring only. Reads configuration, applies the `events`
// migrations, builds the dependencies and serves until SIGTERM.
#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "common/config.h"
#include "common/crypto.h"
#include "common/db_pool.h"
#include "common/grpc_channel.h"
#include "common/grpc_server.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/runtime.h"
#include "events/event_service.h"
#include "events/event_store.h"
#include "events/migrations.h"
#include "events/user_store.h"

namespace {

// Deletes API keys that expired more than `retention` ago, at start and
// every `interval` after, until stopped. Every replica runs it: the DELETE is idempotent and cheap
// (an index on expires_at).
class ApiTokenPurge {
 public:
  ApiTokenPurge(calndro::DbPool& pool, const calndro::Clock& clock, std::chrono::hours retention,
                std::chrono::seconds interval)
      : pool_(pool), clock_(clock), retention_(retention), interval_(interval), thread_([this] { loop(); }) {}
  ~ApiTokenPurge() { stop(); }

  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) {
      thread_.join();
    }
  }

 private:
  void loop() {
    std::unique_lock lock(mutex_);
    do {
      lock.unlock();
      purge_once();
      lock.lock();
    } while (!wake_.wait_for(lock, interval_, [this] { return stopping_; }));
  }

  void purge_once() {
    try {
      const auto purged = pool_.run([&](pqxx::connection& connection) {
        pqxx::nontransaction tx(connection);
        return calndro::events::UserStore::purge_api_tokens(tx, clock_.now() - retention_);
      });
      if (purged > 0) {
        calndro::log::info("purged expired API tokens", {{"count", purged}});
      }
    } catch (const std::exception& error) {
      calndro::log::warn("API token purge failed; next try later", {{"error", error.what()}});
    }
  }

  calndro::DbPool& pool_;
  const calndro::Clock& clock_;
  const std::chrono::hours retention_;
  const std::chrono::seconds interval_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace

int main(int argc, char** argv) {
  const bool health_check_mode = argc > 1 && std::string(argv[1]) == "--health-check";
  if (argc > 1 && !health_check_mode) {
    std::fprintf(stderr,
                 "usage: calndro-events [--health-check]\n(configuration comes from CALNDRO_* variables)\n");
    return 2;
  }
  calndro::block_termination_signals();
  calndro::log::set_service_name("events");
  try {
    namespace config = calndro::config;
    calndro::init_crypto();
    calndro::tune_runtime();
    const std::string events_port = std::to_string(config::int_or("CALNDRO_EVENTS_PORT", 50051, 0, 65535));
    const std::string notify_port = std::to_string(config::int_or("CALNDRO_NOTIFY_PORT", 50052, 1, 65535));
    const std::string listen = config::string_or("CALNDRO_EVENTS_LISTEN", "127.0.0.1:" + events_port);
    if (health_check_mode) {
      return calndro::probe_grpc_health(listen);
    }
    const std::string metrics_listen = config::string_or("CALNDRO_EVENTS_METRICS_LISTEN", "127.0.0.1:9101");
    const std::string notify_address = config::string_or("CALNDRO_NOTIFY_ADDR", "127.0.0.1:" + notify_port);
    std::string target_error;
    const auto notify_target_or = calndro::grpc_target(notify_address, target_error);
    if (!notify_target_or) {
      throw std::runtime_error("CALNDRO_NOTIFY_ADDR: " + target_error);
    }
    const std::string notify_target = *notify_target_or;
    const std::string database_url =
        config::string_or("CALNDRO_DATABASE_URL", "postgresql://calndro@127.0.0.1:5432/calndro");
    const int pool_size = config::int_or("CALNDRO_DB_POOL_SIZE", 8, 1, 256);
    const auto rpc_timeout =
        std::chrono::milliseconds(config::int_or("CALNDRO_RPC_TIMEOUT_MS", 5000, 50, 600000));
    const config::InternalToken internal = config::internal_token(listen);
    const std::string& internal_token = internal.value;
    (void)calndro::grpc_tls();  // bad TLS files stop the start here
    if (internal.is_default) {
      calndro::log::warn(
          "CALNDRO_INTERNAL_TOKEN is not set; using the local default (fine for a laptop only)");
    }

    calndro::events::LoginLimits login_limits;
    login_limits.failures_per_account = config::int_or("CALNDRO_LOGIN_FAILURES_PER_ACCOUNT", 10, 1, 1000000);
    login_limits.failures_per_address = config::int_or("CALNDRO_LOGIN_FAILURES_PER_ADDRESS", 100, 1, 1000000);
    login_limits.window = std::chrono::seconds(config::int_or("CALNDRO_LOGIN_WINDOW_SECONDS", 300, 1, 86400));
    const auto hashing_wait =
        std::chrono::milliseconds(config::int_or("CALNDRO_PASSWORD_CHECK_WAIT_MS", 1000, 0, 60000));
    calndro::events::EventServiceOptions service_options;
    service_options.api_token_lifetime =
        std::chrono::hours(24 * config::int_or("CALNDRO_API_TOKEN_DAYS", 30, 1, 3650));
    service_options.notify_mails_per_hour = config::int_or("CALNDRO_NOTIFY_MAILS_PER_HOUR", 100, 1, 1000000);
    const auto retention = std::chrono::hours(24 * config::int_or("CALNDRO_RETENTION_DAYS", 30, 1, 3650));
    const auto purge_interval =
        std::chrono::seconds(config::int_or("CALNDRO_PURGE_INTERVAL_SECONDS", 3600, 1, 86400));

    calndro::apply_migrations_when_reachable(database_url, calndro::events::kSchema,
                                             calndro::events::migrations());

    calndro::SystemClock clock;
    calndro::SystemRandom random;
    calndro::DbPool pool(
        database_url, pool_size,
        [](pqxx::connection& connection) {
          calndro::events::UserStore::prepare(connection);
          calndro::events::EventStore::prepare(connection);
        },
        std::chrono::seconds(5));
    calndro::events::NotificationClient notifications(calndro::make_balanced_channel(notify_target),
                                                      internal_token, rpc_timeout);
    calndro::events::CredentialCache credential_cache(clock, std::chrono::seconds(60), 10000);
    // Resolved email tokens, so a link opened again skips the hop to the
    // notification service (docs/PERFORMANCE.md); bounded, and never kept
    // past a token's expiry. Off by default: a token whose expiry an
    // operator moves by hand in notify.email_tokens (the only way to revoke
    // one) would stay usable for up to this many seconds.
    calndro::events::EmailTokenCache token_cache(
        clock, std::chrono::seconds(config::int_or("CALNDRO_EMAIL_TOKEN_CACHE_SECONDS", 0, 0, 86400)), 10000);
    calndro::events::LoginThrottle login_throttle(clock, login_limits);
    calndro::events::Authenticator authenticator(clock, credential_cache, login_throttle, notifications,
                                                 &token_cache, hashing_wait);
    calndro::events::EventServiceImpl service(pool, authenticator, notifications, clock, random,
                                              service_options);
    ApiTokenPurge purge(pool, clock, retention, purge_interval);

    calndro::Metrics metrics;
    auto& pool_in_use = prometheus::BuildGauge()
                            .Name("calndro_db_pool_connections_in_use")
                            .Help("Database connections lent out right now")
                            .Register(metrics.registry())
                            .Add({});
    prometheus::BuildGauge()
        .Name("calndro_db_pool_size")
        .Help("Configured database pool size")
        .Register(metrics.registry())
        .Add({})
        .Set(pool_size);
    metrics.on_scrape([&] { pool_in_use.Set(pool.in_use()); });
    if (metrics_listen != "off") {
      metrics.serve(metrics_listen);  // a metrics port clash is logged, not fatal
    }

    calndro::GrpcServerOptions options;
    options.metrics = &metrics;
    options.readiness_check = [&pool] { return pool.reachable(); };
    options.address = listen;
    options.services = {&service};
    options.service_names = {"calndro.events.v1.EventService"};
    return calndro::run_grpc_server(options);
  } catch (const std::exception& error) {
    calndro::log::error("cannot start", {{"error", error.what()}});
    return 2;
  }
}
