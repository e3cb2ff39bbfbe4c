// The connection pool against a real database: who gets a connection when
// all are leased.
#include "common/db/db_pool.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/harness.h"
#include "support/wait.h"

namespace calndro::testing {
namespace {

using namespace std::chrono_literals;

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
  std::promise<void> let_go;
  std::thread holder([&, released = let_go.get_future()] {
    pool.run([&](pqxx::connection&) { released.wait(); });
    pool.run([&](pqxx::connection&) { record("holder again"); });
  });
  ASSERT_TRUE(wait_until([&] { return pool.in_use() == 1; }, 10s, "the holder to lease the connection"));
  std::vector<std::thread> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.emplace_back(
        [&, i] { pool.run([&](pqxx::connection&) { record("waiter " + std::to_string(i)); }); });
    ASSERT_TRUE(wait_until([&] { return pool.waiting() == i + 1; }, 10s,
                           "waiter " + std::to_string(i) + " to queue"));
  }
  let_go.set_value();
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
  std::promise<void> let_go;
  std::thread holder(
      [&, released = let_go.get_future()] { pool.run([&](pqxx::connection&) { released.wait(); }); });
  ASSERT_TRUE(wait_until([&] { return pool.in_use() == 1; }, 10s, "the holder to lease the connection"));
  EXPECT_THROW(pool.run([](pqxx::connection&) {}), DatabaseUnavailable);
  EXPECT_EQ(pool.waiting(), 0);
  let_go.set_value();
  holder.join();
  EXPECT_TRUE(pool.reachable());
  EXPECT_EQ(pool.in_use(), 0);
}

}  // namespace
}  // namespace calndro::testing
