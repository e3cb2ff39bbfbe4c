// The connection pool against a real database: who gets a connection when
// all are leased.
#include "common/db_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/harness.h"

namespace calndro::testing {
namespace {

using namespace std::chrono_literals;

template <typename Condition>
bool eventually(Condition condition) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// Waiters get the connection in arrival order, and a caller coming back for
// another right after releasing one queues behind them: it cannot take the
// connection it just gave back ahead of callers already waiting.
TEST(DbPool, AReleasedConnectionGoesToTheLongestWaiter) {
  Database db;
  DbPool pool(db.url(), 1, nullptr, 10s);
  std::mutex order_mutex;
  std::vector<std::string> order;
  const auto record = [&](const std::string& who) {
    std::lock_guard lock(order_mutex);
    order.push_back(who);
  };
  std::atomic<bool> let_go{false};
  std::thread holder([&] {
    pool.run([&](pqxx::connection&) {
      while (!let_go) {
        std::this_thread::sleep_for(1ms);
      }
    });
    pool.run([&](pqxx::connection&) { record("holder again"); });
  });
  ASSERT_TRUE(eventually([&] { return pool.in_use() == 1; }));
  std::vector<std::thread> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.emplace_back(
        [&, i] { pool.run([&](pqxx::connection&) { record("waiter " + std::to_string(i)); }); });
    ASSERT_TRUE(eventually([&] { return pool.waiting() == i + 1; })) << "waiter " << i << " never queued";
  }
  let_go = true;
  holder.join();
  for (auto& waiter : waiters) {
    waiter.join();
  }
  EXPECT_EQ(order, (std::vector<std::string>{"waiter 0", "waiter 1", "waiter 2", "holder again"}));
  EXPECT_EQ(pool.in_use(), 0);
  EXPECT_EQ(pool.waiting(), 0);
}

// A caller that waits past the acquire timeout gets DatabaseUnavailable and
// leaves the queue; the pool still works afterwards.
TEST(DbPool, AWaiterGivesUpAfterTheTimeout) {
  Database db;
  DbPool pool(db.url(), 1, nullptr, 100ms);
  std::atomic<bool> let_go{false};
  std::thread holder([&] {
    pool.run([&](pqxx::connection&) {
      while (!let_go) {
        std::this_thread::sleep_for(1ms);
      }
    });
  });
  ASSERT_TRUE(eventually([&] { return pool.in_use() == 1; }));
  EXPECT_THROW(pool.run([](pqxx::connection&) {}), DatabaseUnavailable);
  EXPECT_EQ(pool.waiting(), 0);
  let_go = true;
  holder.join();
  EXPECT_TRUE(pool.reachable());
  EXPECT_EQ(pool.in_use(), 0);
}

}  // namespace
}  // namespace calndro::testing
