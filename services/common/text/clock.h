#pragma once

#include <chrono>

#include "common/text/time_format.h"

namespace calndro {

// Injected into everything that expires or stamps, so tests can move time.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Instant now() const = 0;
};

class SystemClock final : public Clock {
 public:
  Instant now() const override {
    return std::chrono::time_point_cast<Micros>(std::chrono::system_clock::now());
  }
};

}  // namespace calndro
