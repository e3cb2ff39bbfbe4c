#include "events/background_rounds.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

namespace calndro::events {
namespace {

using namespace std::chrono_literals;

// Polls `condition` until it holds or `limit` passes; whether it held.
template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds limit = 5000ms) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > until) {
      return false;
    }
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

TEST(BackgroundRounds, RunsARoundAtOnceThenWaitsThePause) {
  std::atomic<int> rounds{0};
  BackgroundRounds job({.what = "test job", .pause = 60s, .batch = 10}, [&]() -> absl::StatusOr<int> {
    ++rounds;
    return 0;
  });
  ASSERT_TRUE(eventually([&] { return rounds.load() == 1; }));
  // The pause is a minute: no second round without a wake-up. The sleep is
  // what is tested (nothing happens while it lasts).
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(rounds.load(), 1);
}

TEST(BackgroundRounds, AWakeUpRunsTheNextRoundBeforeThePauseEnds) {
  std::atomic<int> rounds{0};
  BackgroundRounds job({.what = "test job", .pause = 60s, .batch = 10}, [&]() -> absl::StatusOr<int> {
    ++rounds;
    return 0;
  });
  ASSERT_TRUE(eventually([&] { return rounds.load() == 1; }));
  job.wake();
  EXPECT_TRUE(eventually([&] { return rounds.load() == 2; }));
}

TEST(BackgroundRounds, AFullBatchGoesOnWithoutPausing) {
  std::atomic<int> rounds{0};
  BackgroundRounds job({.what = "test job", .pause = 60s, .batch = 5}, [&]() -> absl::StatusOr<int> {
    // Three full batches, then less: four rounds before the pause.
    return ++rounds <= 3 ? 5 : 1;
  });
  EXPECT_TRUE(eventually([&] { return rounds.load() == 4; }));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(rounds.load(), 4);
}

TEST(BackgroundRounds, ARefusedOrFailedRoundIsTriedAgainAtTheNextTick) {
  std::atomic<int> rounds{0};
  BackgroundRounds job({.what = "test job", .pause = 5ms, .batch = 1}, [&]() -> absl::StatusOr<int> {
    const int round = ++rounds;
    if (round == 1) {
      throw std::runtime_error("connection lost");
    }
    if (round == 2) {
      return absl::UnavailableError("database refused");
    }
    return 0;
  });
  EXPECT_TRUE(eventually([&] { return rounds.load() >= 4; }));
}

TEST(BackgroundRounds, DestroyingItStopsTheRounds) {
  std::atomic<int> rounds{0};
  {
    BackgroundRounds job({.what = "test job", .pause = 1ms, .batch = 1}, [&]() -> absl::StatusOr<int> {
      ++rounds;
      return 0;
    });
    ASSERT_TRUE(eventually([&] { return rounds.load() >= 2; }));
  }
  const int after = rounds.load();
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(rounds.load(), after);
}

}  // namespace
}  // namespace calndro::events
