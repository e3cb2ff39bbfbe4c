// The settings of SPEC §11 (change streams and webhooks), a part of the
// table of settings_table.cc kept in a file of its own.
#include <array>

#include "common/base/settings.h"

namespace calndro::settings {
namespace {

using enum Process;
using enum Kind;

constexpr std::array kLiveTable{
    // Change streams (SPEC §11).
    Setting{.name = "CALNDRO_SSE_SLOW_READER_MS",
            .kind = kMilliseconds,
            .default_value = "30000",
            .min = 100,
            .max = 3600000,
            .readers = {kGateway},
            .doc = "a `GET /ID/changes/` client that leaves the bytes written to it unread this long is "
                   "disconnected (it then reconnects with `Last-Event-ID` and misses nothing but skipped "
                   "versions)"},
    Setting{.name = "CALNDRO_STREAMS_PER_CALLER",
            .kind = kInteger,
            .default_value = "20",
            .min = 1,
            .max = 10000,
            .readers = {kEvents},
            .doc =
                "open change streams (`GET /ID/changes/`, `WatchEvent`) one user or one email token may hold "
                "across all replicas (counted in `events.stream_census`); beyond: 429 / RESOURCE_EXHAUSTED"},
    Setting{.name = "CALNDRO_STREAM_HEARTBEAT_SECONDS",
            .kind = kSeconds,
            .default_value = "15",
            .min = 1,
            .max = 300,
            .readers = {kEvents},
            .doc = "quiet this long, a change stream gets a heartbeat (an SSE comment line)"},
    Setting{.name = "CALNDRO_STREAM_RECHECK_SECONDS",
            .kind = kSeconds,
            .default_value = "30",
            .min = 1,
            .max = 60,
            .readers = {kEvents},
            .doc = "how often each change stream checks its caller's credentials and access again, and the "
                   "event's version (an expired email token ends its streams within this)"},

    // Webhooks (SPEC §11, docs/WEBHOOKS.md).
    Setting{.name = "CALNDRO_WEBHOOK_KEY_FILE",
            .kind = kText,
            .default_value = "/var/lib/calndro/webhook-secrets.key",
            .readers = {kNotify},
            .form = "a path",
            .doc =
                "the key that encrypts the webhooks' secrets in the database (XSalsa20-Poly1305): the "
                "base64 of 32 random bytes on one line, readable by the service only (a Kubernetes Secret, "
                "a compose volume); every notify replica needs the same one"},
    Setting{.name = "CALNDRO_WEBHOOK_KEY_MISSING",
            .kind = kText,
            .default_value = "refuse",
            .readers = {kNotify},
            .form = "`refuse` or `create`",
            .doc = "when `CALNDRO_WEBHOOK_KEY_FILE` does not exist: `refuse` to start, or `create` a new key "
                   "there (a first local start; replicas sharing the file keep the first one made)"},
    Setting{.name = "CALNDRO_WEBHOOK_ALLOW",
            .kind = kList,
            .readers = {kNotify},
            .form = "CIDR blocks",
            .doc =
                "addresses a webhook may reach although they are loopback, private, link-local or otherwise "
                "refused (tests, private deployments); `http` URLs are accepted only to these"},
    Setting{.name = "CALNDRO_WEBHOOK_FIRST_RETRY_MS",
            .kind = kMilliseconds,
            .default_value = "5000",
            .min = 10,
            .max = 60000,
            .readers = {kNotify},
            .doc = "the wait before a failed webhook delivery's first retry (the later ones: 30 s, 2 min, "
                   "10 min, 30 min, 1 h, then every 3 h until 24 h after the occurrence); shorter in tests"},
    Setting{.name = "CALNDRO_WEBHOOK_WORKERS",
            .kind = kInteger,
            .default_value = "4",
            .min = 1,
            .max = 64,
            .readers = {kNotify},
            .doc = "webhook deliveries in flight at once per notify replica (each waits at most 5 s)"},
    Setting{.name = "CALNDRO_WEBHOOK_POLL_MS",
            .kind = kMilliseconds,
            .default_value = "250",
            .min = 10,
            .max = 60000,
            .readers = {kNotify},
            .doc = "idle poll of the webhook outbox"},
    Setting{.name = "CALNDRO_WEBHOOK_RELAY_POLL_MS",
            .kind = kMilliseconds,
            .default_value = "250",
            .min = 10,
            .max = 10000,
            .readers = {kEvents},
            .doc = "how often the event service hands the webhook occurrences its writes recorded to notify"},
};

}  // namespace

std::span<const Setting> live_settings() {
  return kLiveTable;
}

}  // namespace calndro::settings
