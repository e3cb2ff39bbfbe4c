// DeadlineWatch: the cancellation runs once when the deadline passes while
// the watch lives, never after the watch is gone, and the watch's end waits
// for a cancellation in progress (the event service's statements rely on it:
// the connection goes back to the pool only after that).
#include "common/db/deadline_watch.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace calndro {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

TEST(DeadlineWatch, CancelsOnceWhenTheDeadlinePassesWhileTheWorkRuns) {
  std::atomic<int> cancels = 0;
  const DeadlineWatch watch(Clock::now() + 50ms, [&] { ++cancels; });
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(cancels.load(), 1);
  EXPECT_TRUE(watch.fired());
}

TEST(DeadlineWatch, NeverCancelsWorkThatEndedInTime) {
  std::atomic<int> cancels = 0;
  {
    const DeadlineWatch watch(Clock::now() + 100ms, [&] { ++cancels; });
    EXPECT_FALSE(watch.fired());
  }
  std::this_thread::sleep_for(250ms);
  EXPECT_EQ(cancels.load(), 0);
}

TEST(DeadlineWatch, WithoutADeadlineNothingIsCancelled) {
  std::atomic<int> cancels = 0;
  {
    const DeadlineWatch watch(std::nullopt, [&] { ++cancels; });
    std::this_thread::sleep_for(50ms);
    EXPECT_FALSE(watch.fired());
  }
  EXPECT_EQ(cancels.load(), 0);
}

TEST(DeadlineWatch, APassedDeadlineCancelsAtOnce) {
  std::atomic<int> cancels = 0;
  const DeadlineWatch watch(Clock::now() - 1s, [&] { ++cancels; });
  for (int i = 0; i < 100 && cancels.load() == 0; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(cancels.load(), 1);
}

TEST(DeadlineWatch, EndingTheWatchWaitsForACancellationInProgress) {
  std::atomic<bool> started = false;
  std::atomic<bool> finished = false;
  {
    const DeadlineWatch watch(Clock::now(), [&] {
      started = true;
      std::this_thread::sleep_for(200ms);
      finished = true;
    });
    while (!started.load()) {
      std::this_thread::sleep_for(1ms);
    }
  }
  EXPECT_TRUE(finished.load());
}

TEST(DeadlineWatch, ManyWatchesEachCancelAtTheirOwnDeadline) {
  std::atomic<int> early = 0;
  std::atomic<int> late = 0;
  const DeadlineWatch second(Clock::now() + 10s, [&] { ++late; });
  const DeadlineWatch first(Clock::now() + 30ms, [&] { ++early; });
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(early.load(), 1);
  EXPECT_EQ(late.load(), 0);
}

}  // namespace
}  // namespace calndro
