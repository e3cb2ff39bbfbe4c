#pragma once

// Waiting in tests: poll a condition until a deadline instead of sleeping a
// fixed time. A fixed sleep is too short on a loaded machine (a flaky test)
// and too long everywhere else (a slow one); a deadline is only reached when
// something is wrong.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

namespace calndro::testing {

// Calls `condition` until it returns true or `deadline` has passed. Polls
// every millisecond at first, backing off to 50 ms, so a condition that
// soon holds costs little and a slow one does not spin. On timeout the
// result is a failure naming `what`; use it as
//   ASSERT_TRUE(wait_until([&] { return ...; }, 10s, "the mail to be sent"));
// or, in harness code, test it and throw with its message().
template <typename Condition>
::testing::AssertionResult wait_until(Condition condition, std::chrono::milliseconds deadline,
                                      const std::string& what) {
  const auto give_up = std::chrono::steady_clock::now() + deadline;
  std::chrono::milliseconds pause(1);
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= give_up) {
      return ::testing::AssertionFailure() << "waited " << deadline.count() << " ms for " << what;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
  return ::testing::AssertionSuccess();
}

}  // namespace calndro::testing
