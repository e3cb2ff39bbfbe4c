#pragma once

// A clock the unit tests move by hand, for the caches' time-to-live rules.

#include "common/text/clock.h"

namespace calndro {

class FakeClock final : public Clock {
 public:
  Instant now() const override { return now_; }
  void advance(Micros by) { now_ += by; }

 private:
  Instant now_{std::chrono::seconds(1'700'000'000)};
};

}  // namespace calndro
