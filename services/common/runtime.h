#pragma once

#include <optional>
#include <string_view>

namespace calndro {

// How a server binary was asked to run: serve, or probe the health of the
// one already running (a container's healthcheck).
enum class RunMode { kServe, kHealthCheck };

// The command line every server binary takes: nothing or "--health-check".
// Anything else prints the usage and returns nullopt (exit with 2).
std::optional<RunMode> read_run_mode(int argc, char** argv, std::string_view binary);

// The first steps of every server binary, before any thread starts:
// SIGINT/SIGTERM blocked (common/signals.h), the log's service name,
// libsodium, tune_runtime(). Throws when libsodium cannot start.
void begin_server_process(std::string_view service_name);

// Process-wide run-time settings for every calndro binary; call once at
// the top of main, before any gRPC object exists.
//
// Debian builds Abseil without NDEBUG, which leaves absl::Mutex deadlock
// detection on: every lock gRPC takes then updates a global lock graph
// (GraphCycles), a few percent of each process's CPU in the benchmark's
// profile (docs/PERFORMANCE.md). Release builds of Abseil have it off; so do we.
void tune_runtime();

}  // namespace calndro
