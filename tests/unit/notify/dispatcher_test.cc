#include "notify/dispatcher.h"

#include <gtest/gtest.h>

namespace calndro::notify {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, DoublesFromTheBaseWithoutJitter) {
  RetryPolicy policy;  // 2 s base, 10 min cap
  // unit 1.0 = the top of the jitter range: the plain schedule.
  EXPECT_EQ(backoff_delay(1, policy, 1.0), milliseconds(2000));
  EXPECT_EQ(backoff_delay(2, policy, 1.0), milliseconds(4000));
  EXPECT_EQ(backoff_delay(3, policy, 1.0), milliseconds(8000));
  EXPECT_EQ(backoff_delay(8, policy, 1.0), milliseconds(256000));
}

TEST(Backoff, IsCappedAtTenMinutes) {
  RetryPolicy policy;
  EXPECT_EQ(backoff_delay(9, policy, 1.0), milliseconds(512000));
  EXPECT_EQ(backoff_delay(10, policy, 1.0), milliseconds(600000));
  EXPECT_EQ(backoff_delay(20, policy, 1.0), milliseconds(600000));
  EXPECT_EQ(backoff_delay(1000, policy, 1.0), milliseconds(600000));
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
