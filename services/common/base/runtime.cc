#include "common/base/runtime.h"

#include <absl/synchronization/mutex.h>

#include <cstdio>
#include <string>

#include "common/base/log.h"
#include "common/base/settings.h"
#include "common/base/signals.h"
#include "common/crypto/crypto.h"

namespace calndro {

void tune_runtime() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::EnableMutexInvariantDebugging(false);
}

int server_main(int argc, char** argv, std::string_view binary, std::string_view service_name,
                const std::function<int()>& health_check, const std::function<int()>& serve) {
  const bool probe = argc == 2 && std::string_view(argv[1]) == "--health-check";
  if (argc == 2 && std::string_view(argv[1]) == "--print-settings-markdown") {
    std::fputs(settings::markdown_table().c_str(), stdout);
    return 0;
  }
  if (argc > 1 && !probe) {
    std::fprintf(stderr,
                 "usage: %s [--health-check | --print-settings-markdown]\n"
                 "(configuration comes from CALNDRO_* variables: docs/OPERATIONS.md)\n",
                 std::string(binary).c_str());
    return 2;
  }
  block_termination_signals();
  log::set_service_name(service_name);
  try {
    init_crypto();
    tune_runtime();
    return probe ? health_check() : serve();
  } catch (const std::exception& error) {
    log::error("cannot start", {{"error", error.what()}});
    std::fprintf(stderr, "%s: %s\n", std::string(binary).c_str(), error.what());
    return 1;
  }
}

}  // namespace calndro
