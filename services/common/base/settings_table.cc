// The table of settings (common/base/settings.h): data only, in the order of
// docs/OPERATIONS.md. A new setting is one entry here and one getter call
// where its process is wired.
#include <array>
#include <vector>

#include "common/base/settings.h"

namespace calndro::settings {
namespace {

using enum Process;
using enum Kind;

constexpr std::array kTable{
    // Where the processes listen and find each other.
    Setting{.name = "CALNDRO_DATABASE_URL",
            .kind = kDatabaseUrl,
            .default_value = "postgresql://calndro@127.0.0.1:5432/calndro",
            .readers = {kEvents, kNotify, kAdmin},
            .doc = "the PostgreSQL database; each process applies its migrations there at start"},
    Setting{.name = "CALNDRO_DB_POOL_SIZE",
            .kind = kInteger,
            .default_value = "8",
            .min = 1,
            .max = 256,
            .readers = {kEvents, kNotify},
            .doc = "database connections per process; notify needs more than `CALNDRO_DISPATCH_WORKERS`"},
    Setting{.name = "CALNDRO_EVENTS_PORT",
            .kind = kInteger,
            .default_value = "50051",
            .min = 1,
            .max = 65535,
            .readers = {kEvents, kGateway},
            .doc = "the event service's port in the defaults of `CALNDRO_EVENTS_LISTEN` and "
                   "`CALNDRO_EVENTS_ADDR`"},
    Setting{.name = "CALNDRO_NOTIFY_PORT",
            .kind = kInteger,
            .default_value = "50052",
            .min = 1,
            .max = 65535,
            .readers = {kEvents, kNotify, kGateway},
            .doc = "the notification service's port in the defaults of `CALNDRO_NOTIFY_LISTEN` and "
                   "`CALNDRO_NOTIFY_ADDR`"},
    Setting{.name = "CALNDRO_HTTP_PORT",
            .kind = kInteger,
            .default_value = "9000",
            .min = 0,
            .max = 65535,
            .readers = {kGateway},
            .doc = "the gateway's port in the default of `CALNDRO_HTTP_LISTEN`"},
    Setting{.name = "CALNDRO_EVENTS_LISTEN",
            .kind = kGrpcListen,
            .default_value = "127.0.0.1:$CALNDRO_EVENTS_PORT",
            .readers = {kEvents},
            .doc = "where the event service serves gRPC; beyond loopback it needs a real "
                   "`CALNDRO_INTERNAL_TOKEN`"},
    Setting{.name = "CALNDRO_NOTIFY_LISTEN",
            .kind = kGrpcListen,
            .default_value = "127.0.0.1:$CALNDRO_NOTIFY_PORT",
            .readers = {kNotify},
            .doc = "where the notification service serves gRPC; beyond loopback it needs a real "
                   "`CALNDRO_INTERNAL_TOKEN`"},
    Setting{.name = "CALNDRO_HTTP_LISTEN",
            .kind = kListenAddress,
            .default_value = "0.0.0.0:$CALNDRO_HTTP_PORT",
            .min = 0,
            .max = 65535,
            .readers = {kGateway},
            .doc = "where the gateway serves HTTP"},
    Setting{.name = "CALNDRO_EVENTS_ADDR",
            .kind = kGrpcTarget,
            .default_value = "127.0.0.1:$CALNDRO_EVENTS_PORT",
            .readers = {kGateway},
            .doc = "where the gateway finds the event service (`dns:///events:50051`: every replica)"},
    Setting{.name = "CALNDRO_NOTIFY_ADDR",
            .kind = kGrpcTarget,
            .default_value = "127.0.0.1:$CALNDRO_NOTIFY_PORT",
            .readers = {kEvents, kGateway},
            .off_for = {kGateway},
            .doc = "where events hands notifies over; the gateway's `/readyz` asks its health (`off`: not "
                   "asked, where only events may reach it)"},
    Setting{.name = "CALNDRO_RPC_TIMEOUT_MS",
            .kind = kMilliseconds,
            .default_value = "5000",
            .min = 50,
            .max = 600000,
            .readers = {kEvents, kGateway},
            .doc = "the deadline of every call the gateway makes to events and events to notify"},
    Setting{.name = "CALNDRO_EVENTS_METRICS_LISTEN",
            .kind = kListenAddress,
            .default_value = "127.0.0.1:9101",
            .min = 0,
            .max = 65535,
            .readers = {kEvents},
            .off_for = {kEvents},
            .doc = "events: Prometheus text on `GET /metrics` there (port 0: the kernel chooses, logged)"},
    Setting{.name = "CALNDRO_NOTIFY_METRICS_LISTEN",
            .kind = kListenAddress,
            .default_value = "127.0.0.1:9102",
            .min = 0,
            .max = 65535,
            .readers = {kNotify},
            .off_for = {kNotify},
            .doc = "notify: Prometheus text on `GET /metrics` there (port 0: the kernel chooses, logged)"},
    Setting{.name = "CALNDRO_GATEWAY_METRICS_LISTEN",
            .kind = kListenAddress,
            .default_value = "127.0.0.1:9103",
            .min = 0,
            .max = 65535,
            .readers = {kGateway},
            .off_for = {kGateway},
            .doc = "gateway: Prometheus text on `GET /metrics` there (request counts and latency by route), "
                   "never on the public port"},

    // Between the processes: the internal credential and TLS.
    Setting{.name = "CALNDRO_INTERNAL_TOKEN",
            .kind = kSecret,
            .readers = {kEvents, kNotify, kGateway},
            .doc = "the credential the gateway sends to events and events to notify (metadata "
                   "`x-calndro-internal`); empty: the public `calndro-local-internal`, refused (as is one "
                   "under 32 characters) when a gRPC listen address or `CALNDRO_EVENTS_ADDR` is beyond "
                   "loopback"},
    Setting{.name = "CALNDRO_INTERNAL_TOKEN_FILE",
            .kind = kFile,
            .readers = {kEvents, kNotify, kGateway},
            .doc = "the internal credential from the first line of this file instead (not with "
                   "`CALNDRO_INTERNAL_TOKEN`)"},
    Setting{.name = "CALNDRO_GRPC_TLS_CERT",
            .kind = kFile,
            .readers = {kEvents, kNotify, kGateway},
            .form = "PEM certificate chain",
            .doc = "TLS between the processes: the certificate a gRPC server serves and every client "
                   "presents (with `CALNDRO_GRPC_TLS_KEY`); empty: plaintext gRPC"},
    Setting{.name = "CALNDRO_GRPC_TLS_KEY",
            .kind = kFile,
            .readers = {kEvents, kNotify, kGateway},
            .form = "PEM private key",
            .doc = "the key of `CALNDRO_GRPC_TLS_CERT`"},
    Setting{.name = "CALNDRO_GRPC_TLS_CA",
            .kind = kFile,
            .readers = {kEvents, kNotify, kGateway},
            .form = "PEM certificates",
            .doc = "roots that verify the servers (empty: the system's); servers then require and verify "
                   "client certificates (mutual TLS)"},
    Setting{.name = "CALNDRO_GRPC_TLS_SERVER_NAME",
            .kind = kText,
            .readers = {kEvents, kNotify, kGateway},
            .form = "host name",
            .doc = "the name expected in servers' certificates instead of the target's host (IP lists, one "
                   "name for every replica); `--health-check` expects it, else `localhost`"},

    // The gateway's front door.
    Setting{.name = "CALNDRO_HTTP_THREADS",
            .kind = kInteger,
            .default_value = "64",
            .min = 1,
            .max = 4096,
            .readers = {kGateway},
            .doc = "worker threads; a keep-alive connection holds one while served (up to 5 s idle, 1000 "
                   "requests), an idle one (250 ms or more) gives it up when others wait"},
    Setting{.name = "CALNDRO_HTTP_HEAD_TIMEOUT_MS",
            .kind = kMilliseconds,
            .default_value = "10000",
            .min = 100,
            .max = 600000,
            .readers = {kGateway},
            .doc = "the whole request head (at most 16 KiB, else 431) must arrive within this, else 408 and "
                   "close"},
    Setting{.name = "CALNDRO_HTTP_MAX_CONNECTIONS_PER_ADDRESS",
            .kind = kInteger,
            .default_value = "256",
            .min = 1,
            .max = 100000,
            .readers = {kGateway},
            .doc = "connections served at once per client address (the TCP peer; trusted proxies are not "
                   "counted); at the cap a newcomer with its request displaces the longest-waiting one, "
                   "else 429"},
    Setting{.name = "CALNDRO_HTTP_MAX_LINGERING_CONNECTIONS_PER_ADDRESS",
            .kind = kInteger,
            .default_value = "16",
            .min = 1,
            .max = 100000,
            .readers = {kGateway},
            .doc = "of those, how many may wait for a request or take over a head for 250 ms or more; "
                   "beyond it an idle one is closed and a slow head gets 429"},
    Setting{.name = "CALNDRO_PUBLIC_BASE_URL",
            .kind = kHttpUrl,
            .readers = {kGateway, kEvents, kNotify},
            .doc =
                "the one base of links in mails (notify builds them; no `Host` reaches it; empty: "
                "`http://localhost:9000`), of the event's URL in `event.ics` (events; empty: none) and of "
                "URLs in the gateway's responses (empty: `http://` and the request's allowed `Host`); give "
                "every process the same"},
    Setting{.name = "CALNDRO_ALLOWED_HOSTS",
            .kind = kList,
            .readers = {kGateway},
            .form = "host names, `*` for any, `.example.org` for a domain and its subdomains",
            .doc = "`Host` values the gateway answers (else 400 before any RPC; `/healthz`, `/readyz` "
                   "excepted), plus the host of `CALNDRO_PUBLIC_BASE_URL`; empty: `localhost`, `127.0.0.1`, "
                   "`[::1]`"},
    Setting{.name = "CALNDRO_TRUSTED_PROXIES",
            .kind = kList,
            .readers = {kGateway},
            .form = "IP addresses or CIDR blocks",
            .doc = "proxies whose `X-Forwarded-For` is believed for the client address (the login throttle "
                   "keys on it)"},

    // The notification service's mail.
    Setting{.name = "CALNDRO_SMTP_URL",
            .kind = kSmtpUrl,
            .default_value = "smtp://127.0.0.1:1025",
            .readers = {kNotify},
            .doc = "`smtps://` for TLS from the start; `smtp://` requires STARTTLS (the mail waits in the "
                   "outbox otherwise) unless the host is loopback or in `CALNDRO_SMTP_PLAINTEXT_HOSTS`"},
    Setting{.name = "CALNDRO_SMTP_CA_FILE",
            .kind = kFile,
            .readers = {kNotify},
            .form = "PEM certificates",
            .doc = "the CA of the SMTP server's certificate (empty: the system's); certificate and host name "
                   "are always verified"},
    Setting{.name = "CALNDRO_SMTP_PLAINTEXT_HOSTS",
            .kind = kList,
            .readers = {kNotify},
            .form = "host names",
            .doc = "SMTP hosts allowed without STARTTLS: a mail catcher on a private network only"},
    Setting{.name = "CALNDRO_SMTP_USER",
            .kind = kText,
            .readers = {kNotify},
            .doc = "SMTP AUTH user (empty: no AUTH)"},
    Setting{
        .name = "CALNDRO_SMTP_PASSWORD", .kind = kSecret, .readers = {kNotify}, .doc = "SMTP AUTH password"},
    Setting{.name = "CALNDRO_SMTP_CONNECT_TIMEOUT_MS",
            .kind = kMilliseconds,
            .default_value = "10000",
            .min = 100,
            .max = 600000,
            .readers = {kNotify},
            .doc = "connecting to the SMTP server, per mail"},
    Setting{.name = "CALNDRO_SMTP_TIMEOUT_MS",
            .kind = kMilliseconds,
            .default_value = "60000",
            .min = 100,
            .max = 3600000,
            .readers = {kNotify},
            .doc = "one whole SMTP transaction, per mail"},
    Setting{.name = "CALNDRO_MAIL_FROM",
            .kind = kText,
            .default_value = "calndro <noreply@calndro.localhost>",
            .readers = {kNotify},
            .form = "`Name <user@example.org>` or an address",
            .doc = "the sender of every mail"},
    Setting{.name = "CALNDRO_SUBJECT_PREFIX",
            .kind = kText,
            .default_value = "[calndro] ",
            .readers = {kNotify},
            .doc = "put before every mail's subject"},
    Setting{.name = "CALNDRO_TOKEN_DAYS",
            .kind = kDays,
            .default_value = "5",
            .min = 1,
            .max = 3650,
            .readers = {kNotify},
            .doc = "how long the email token in a mail's links works, from the sending of the mail"},
    Setting{.name = "CALNDRO_DISPATCH_WORKERS",
            .kind = kInteger,
            .default_value = "1",
            .min = 1,
            .max = 16,
            .readers = {kNotify},
            .doc = "sending threads per process; each holds a database connection (below "
                   "`CALNDRO_DB_POOL_SIZE`)"},
    Setting{.name = "CALNDRO_DISPATCH_POLL_MS",
            .kind = kMilliseconds,
            .default_value = "250",
            .min = 10,
            .max = 60000,
            .readers = {kNotify},
            .doc = "idle poll of the outbox"},
    Setting{.name = "CALNDRO_RETRY_BASE_MS",
            .kind = kMilliseconds,
            .default_value = "2000",
            .min = 10,
            .max = 3600000,
            .readers = {kNotify},
            .doc = "a failed mail is tried again after base·2^(n−1), jittered"},
    Setting{.name = "CALNDRO_RETRY_MAX_MS",
            .kind = kMilliseconds,
            .default_value = "600000",
            .min = 10,
            .max = 86400000,
            .readers = {kNotify},
            .doc = "the longest wait between two tries of a mail"},
    Setting{.name = "CALNDRO_MAX_ATTEMPTS",
            .kind = kInteger,
            .default_value = "20",
            .min = 1,
            .max = 1000,
            .readers = {kNotify},
            .doc = "tries of a mail, then it is `failed`"},
    Setting{.name = "CALNDRO_REPLICA_ID",
            .kind = kText,
            .readers = {kNotify},
            .doc = "this replica's name in the outbox leases (empty: host name `:` gRPC port); unique among "
                   "running replicas, the same when one starts again (it takes back its leases at once)"},

    // The event service's policies.
    Setting{.name = "CALNDRO_LOGIN_FAILURES_PER_ACCOUNT",
            .kind = kInteger,
            .default_value = "10",
            .min = 1,
            .max = 1000000,
            .readers = {kEvents},
            .doc = "failed password logins per login name in the window, then 429 (counted per replica)"},
    Setting{.name = "CALNDRO_LOGIN_FAILURES_PER_ADDRESS",
            .kind = kInteger,
            .default_value = "100",
            .min = 1,
            .max = 1000000,
            .readers = {kEvents},
            .doc = "failed password logins per client address (IPv6: per /64) in the window, then 429"},
    Setting{.name = "CALNDRO_LOGIN_WINDOW_SECONDS",
            .kind = kSeconds,
            .default_value = "300",
            .min = 1,
            .max = 86400,
            .readers = {kEvents},
            .doc = "the login throttle's sliding window"},
    Setting{.name = "CALNDRO_PASSWORD_CHECK_WAIT_MS",
            .kind = kMilliseconds,
            .default_value = "1000",
            .min = 0,
            .max = 60000,
            .readers = {kEvents},
            .doc = "the longest wait for a password hashing slot, then 429 (`Retry-After: 1`)"},
    Setting{.name = "CALNDRO_EMAIL_TOKEN_CACHE_SECONDS",
            .kind = kSeconds,
            .default_value = "0",
            .min = 0,
            .max = 60,
            .readers = {kEvents},
            .doc = "how long a replica remembers a resolved email token (0: off), and so how long a revoked "
                   "one may still work there"},
    Setting{.name = "CALNDRO_API_TOKEN_DAYS",
            .kind = kDays,
            .default_value = "30",
            .min = 1,
            .max = 3650,
            .readers = {kEvents},
            .doc = "how long an API key works"},
    Setting{.name = "CALNDRO_NOTIFY_MAILS_PER_HOUR",
            .kind = kInteger,
            .default_value = "100",
            .min = 1,
            .max = 1000000,
            .readers = {kEvents},
            .doc = "mails one caller may cause about one event in an hour (notifies; the invitations and "
                   "cancellations of agree, reopen and a new title of an agreed event), then 429; a deletion "
                   "counts but is never refused; reminders and summaries count against the creator and wait "
                   "while over"},
    Setting{.name = "CALNDRO_NOTIFY_RELAY_POLL_MS",
            .kind = kMilliseconds,
            .default_value = "1000",
            .min = 10,
            .max = 600000,
            .readers = {kEvents},
            .doc = "how often the notify relay looks for notifies committed by other replicas (a commit in "
                   "the same process wakes it at once)"},
    Setting{.name = "CALNDRO_NOTIFY_RELAY_MAX_BACKOFF_SECONDS",
            .kind = kSeconds,
            .default_value = "60",
            .min = 1,
            .max = 3600,
            .readers = {kEvents},
            .doc = "the longest wait between two hand-overs of one notify while notify fails (1 s, "
                   "doubling)"},
    Setting{.name = "CALNDRO_DEADLINE_MAIL_POLL_MS",
            .kind = kMilliseconds,
            .default_value = "2000",
            .min = 10,
            .max = 10000,
            .readers = {kEvents},
            .doc = "how often each replica looks for due deadline mails (the reminders before an event's "
                   "`respond_by` and the summary at it); at most 10 s, the delay they are allowed"},

    // The audit log's chains and signed heads (SPEC §10).
    Setting{.name = "CALNDRO_LOG_KEY_FILE",
            .kind = kText,
            .default_value = "/var/lib/calndro/log-signing.key",
            .readers = {kEvents, kAdmin},
            .form = "a path",
            .doc = "the Ed25519 key that signs every event's log head: the base64 of a 32-byte seed on one "
                   "line, readable by the service only (a Kubernetes Secret, a compose volume); "
                   "`GET /log-key` publishes its public half"},
    Setting{.name = "CALNDRO_LOG_KEY_MISSING",
            .kind = kText,
            .default_value = "refuse",
            .readers = {kEvents},
            .form = "`refuse` or `create`",
            .doc = "when `CALNDRO_LOG_KEY_FILE` does not exist: `refuse` to start, or `create` a new key "
                   "there (a first local start; replicas sharing the file keep the first one made)"},
    Setting{.name = "CALNDRO_LOG_SEAL_POLL_MS",
            .kind = kMilliseconds,
            .default_value = "250",
            .min = 10,
            .max = 1000,
            .readers = {kEvents},
            .doc = "how often each replica seals the audit log entries committed since (SPEC §10: within "
                   "2 s of their commit)"},

    // Both services' purges.
    Setting{.name = "CALNDRO_RETENTION_DAYS",
            .kind = kDays,
            .default_value = "30",
            .min = 1,
            .max = 3650,
            .readers = {kEvents, kNotify},
            .doc = "events deletes API keys this long after they expired; notify purges expired tokens, "
                   "sent and failed mails and idempotency records older than this"},
    Setting{.name = "CALNDRO_PURGE_INTERVAL_SECONDS",
            .kind = kSeconds,
            .default_value = "3600",
            .min = 0,
            .max = 604800,
            .readers = {kEvents, kNotify},
            .doc = "each replica purges at start and then at this interval (notify in batches of 1000 rows; "
                   "events also idempotency records past their 24 h); 0: no purge job"},
};

}  // namespace

std::span<const Setting> table() {
  // The core's settings, then those of the change streams and webhooks
  // (settings_table_live.cc), in that order in docs/OPERATIONS.md.
  static const std::vector<Setting> all = [] {
    std::vector<Setting> settings(kTable.begin(), kTable.end());
    const std::span<const Setting> live = live_settings();
    settings.insert(settings.end(), live.begin(), live.end());
    return settings;
  }();
  return all;
}

}  // namespace calndro::settings
