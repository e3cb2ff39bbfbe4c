#pragma once

#include <functional>
#include <string_view>

namespace calndro {

// The main of every server binary. The command line is nothing, or
// "--health-check" to probe the process already running (a container's
// healthcheck), or "--print-settings-markdown" to print the table of
// settings (docs/OPERATIONS.md); anything else prints the usage and exits 2. Before any
// thread starts: SIGINT/SIGTERM blocked (common/base/signals.h), the log's
// service name, libsodium, tune_runtime(). Then `health_check` or `serve`,
// each returning the exit code; whatever they throw is logged as
// "cannot start", printed on stderr, and exits 1.
int server_main(int argc, char** argv, std::string_view binary, std::string_view service_name,
                const std::function<int()>& health_check, const std::function<int()>& serve);

// Process-wide run-time settings for every calndro binary; call once at
// the top of main, before any gRPC object exists.
//
// Debian builds Abseil without NDEBUG, which leaves absl::Mutex deadlock
// detection on: every lock gRPC takes then updates a global lock graph
// (GraphCycles), a few percent of each process's CPU in the benchmark's
// profile (docs/PERFORMANCE.md). Release builds of Abseil have it off; so do we.
void tune_runtime();

}  // namespace calndro
