#include "notify/dispatcher.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <utility>

namespace calndro::notify {
namespace {

using std::chrono::milliseconds;

// Expects the plain schedule (unit 1.0 = the top of the jitter range) of
// the default policy (2 s base, 10 min cap): {attempts, delay in ms}.
void expect_plain_schedule(std::initializer_list<std::pair<int, int>> schedule) {
  RetryPolicy policy;
  for (const auto& [attempts, delay_ms] : schedule) {
    EXPECT_EQ(backoff_delay(attempts, policy, 1.0), milliseconds(delay_ms)) << attempts << " attempts";
  }
}

TEST(Backoff, DoublesFromTheBaseWithoutJitter) {
  expect_plain_schedule({{1, 2000}, {2, 4000}, {3, 8000}, {8, 256000}});
}

TEST(Backoff, IsCappedAtTenMinutes) {
  expect_plain_schedule({{9, 512000}, {10, 600000}, {20, 600000}, {1000, 600000}});
}

TEST(Backoff, JitterStaysWithinHalfToFull) {
  RetryPolicy policy;
  for (int attempts = 1; attempts <= 25; ++attempts) {
    const auto full = backoff_delay(attempts, policy, 1.0);
    const auto low = backoff_delay(attempts, policy, 0.0);
    const auto mid = backoff_delay(attempts, policy, 0.5);
    EXPECT_EQ(low, full / 2);
    EXPECT_GE(mid, low);
    EXPECT_LE(mid, full);
  }
}

TEST(Backoff, ConfigurableBaseAndCap) {
  RetryPolicy policy{milliseconds(100), milliseconds(1000), 5};
  EXPECT_EQ(backoff_delay(1, policy, 1.0), milliseconds(100));
  EXPECT_EQ(backoff_delay(4, policy, 1.0), milliseconds(800));
  EXPECT_EQ(backoff_delay(5, policy, 1.0), milliseconds(1000));
}

TEST(Backoff, NonsenseInputStaysSane) {
  RetryPolicy policy;
  EXPECT_EQ(backoff_delay(0, policy, 1.0), milliseconds(2000));
  EXPECT_EQ(backoff_delay(-5, policy, 2.0), milliseconds(2000));
  EXPECT_EQ(backoff_delay(1, policy, -1.0), milliseconds(1000));
}

}  // namespace
}  // namespace calndro::notify
