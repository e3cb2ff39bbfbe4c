#pragma once

namespace calndro {

// Process-wide run-time settings for every calndro binary; call once at
// the top of main, before any gRPC object exists.
//
// Debian builds Abseil without NDEBUG, which leaves absl::Mutex deadlock
// detection on: every lock gRPC takes then updates a global lock graph
// (GraphCycles), a few percent of each process's CPU in the benchmark's
// profile (docs/PERFORMANCE.md). Release builds of Abseil have it off; so do we.
void tune_runtime();

}  // namespace calndro
