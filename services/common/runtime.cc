#include "common/runtime.h"

#include <absl/synchronization/mutex.h>

namespace calndro {

void tune_runtime() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::EnableMutexInvariantDebugging(false);
}

}  // namespace calndro
