#include "common/runtime.h"

#include <absl/synchronization/mutex.h>

#include <cstdio>
#include <string>

#include "common/crypto.h"
#include "common/log.h"
#include "common/signals.h"

namespace calndro {

void tune_runtime() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::EnableMutexInvariantDebugging(false);
}

std::optional<RunMode> read_run_mode(int argc, char** argv, std::string_view binary) {
  if (argc == 1) {
    return RunMode::kServe;
  }
  if (argc == 2 && std::string_view(argv[1]) == "--health-check") {
    return RunMode::kHealthCheck;
  }
  std::fprintf(stderr, "usage: %s [--health-check]\n(configuration comes from CALNDRO_* variables)\n",
               std::string(binary).c_str());
  return std::nullopt;
}

void begin_server_process(std::string_view service_name) {
  block_termination_signals();
  log::set_service_name(service_name);
  init_crypto();
  tune_runtime();
}

}  // namespace calndro
