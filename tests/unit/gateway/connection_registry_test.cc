// The per-address limits (gateway/server/connection_registry.h) on their own, with
// time given by the test: connections at work are many, lingering ones few.
#include "gateway/server/connection_registry.h"

#include <gtest/gtest.h>

#include <deque>

namespace calndro::gateway {
namespace {

using Arrival = ConnectionRegistry::Arrival;
using Phase = Connection::Phase;

const Clock::time_point t0 = Clock::now();
constexpr auto kLater = kLingerAfter + std::chrono::milliseconds(50);

class ConnectionRegistryTest : public ::testing::Test {
 protected:
  // A connection from `address`, accepted at `at`, not yet admitted.
  Connection& accepted(const std::string& address = "192.0.2.1", Clock::time_point at = t0) {
    Connection& connection = connections_.emplace_back(address);
    connection.enter(Phase::kWaiting, at);
    return connection;
  }
  // Admits `count` connections from `address`, each at work since `at`.
  void serving(std::size_t count, Clock::time_point at = t0, const std::string& address = "192.0.2.1") {
    for (std::size_t i = 0; i < count; ++i) {
      Connection& connection = accepted(address, at);
      ASSERT_TRUE(registry_.admit(&connection, Arrival::kSilent, at));
      connection.enter(Phase::kServing, at);
    }
  }

  ConnectionRegistry registry_{ConnectionLimits{.per_address = 100, .lingering_per_address = 2}};
  std::deque<Connection> connections_;  // stable addresses
};

TEST_F(ConnectionRegistryTest, ConnectionsAtWorkDoNotCountAgainstTheLingeringLimit) {
  serving(64);
  // Long after: a client pool of 64 busy connections, and a 65th arrives.
  Connection& newcomer = accepted("192.0.2.1", t0 + std::chrono::seconds(10));
  EXPECT_TRUE(registry_.admit(&newcomer, Arrival::kSilent, t0 + std::chrono::seconds(10)));
  EXPECT_EQ(registry_.count("192.0.2.1"), 65u);
}

TEST_F(ConnectionRegistryTest, WaitingConnectionsOverTheLimitCloseWhenTheyBeginToLinger) {
  std::vector<Connection*> idle;
  for (int i = 0; i < 4; ++i) {
    idle.push_back(&accepted());
    ASSERT_TRUE(registry_.admit(idle.back(), Arrival::kSilent, t0));  // none lingers yet
  }
  // All four linger at once; whichever asks while the others already make
  // up the limit closes, until the limit is met.
  const auto later = t0 + kLater;
  EXPECT_FALSE(registry_.may_linger(idle[0], later));
  EXPECT_FALSE(registry_.may_linger(idle[1], later));
  EXPECT_TRUE(registry_.may_linger(idle[2], later));
  EXPECT_TRUE(registry_.may_linger(idle[3], later));
  EXPECT_EQ(registry_.count("192.0.2.1"), 2u);
}

TEST_F(ConnectionRegistryTest, ASilentNewcomerIsRefusedAtTheLimitOneThatSentItsRequestIsNot) {
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(registry_.admit(&accepted(), Arrival::kSilent, t0));
  }
  const auto later = t0 + kLater;
  EXPECT_FALSE(registry_.admit(&accepted("192.0.2.1", later), Arrival::kSilent, later));
  EXPECT_TRUE(registry_.admit(&accepted("192.0.2.1", later), Arrival::kRequestSent, later));
  // Another address has limits of its own.
  EXPECT_TRUE(registry_.admit(&accepted("192.0.2.2", later), Arrival::kSilent, later));
}

TEST_F(ConnectionRegistryTest, ASlowHeadTakesTheLingeringPlaceOfAWaitingConnectionElseIsRefused) {
  Connection& waiting = accepted();
  ASSERT_TRUE(registry_.admit(&waiting, Arrival::kSilent, t0));
  Connection& slow = accepted();
  ASSERT_TRUE(registry_.admit(&slow, Arrival::kRequestSent, t0));
  slow.enter(Phase::kReadingHead, t0);
  Connection& slower = accepted();
  ASSERT_TRUE(registry_.admit(&slower, Arrival::kRequestSent, t0));
  slower.enter(Phase::kReadingHead, t0);
  const auto later = t0 + kLater;
  // Three lingering, room for two: the waiting one makes way for a head.
  EXPECT_TRUE(registry_.may_linger(&slow, later));
  EXPECT_TRUE(waiting.yield);
  EXPECT_TRUE(registry_.may_linger(&slower, later));
  // A third slow head finds no waiting connection left to displace.
  Connection& slowest = accepted();
  ASSERT_TRUE(registry_.admit(&slowest, Arrival::kRequestSent, t0));
  slowest.enter(Phase::kReadingHead, t0);
  EXPECT_FALSE(registry_.may_linger(&slowest, later));
}

TEST_F(ConnectionRegistryTest, AtTheCapARequestDisplacesTheLongestWaitingConnection) {
  ConnectionRegistry registry{ConnectionLimits{.per_address = 2, .lingering_per_address = 16}};
  Connection& older = accepted("192.0.2.1", t0);
  Connection& newer = accepted("192.0.2.1", t0 + std::chrono::milliseconds(10));
  ASSERT_TRUE(registry.admit(&older, Arrival::kSilent, t0));
  ASSERT_TRUE(registry.admit(&newer, Arrival::kSilent, t0));
  const auto soon = t0 + std::chrono::milliseconds(20);
  // Silent: only a lingering connection makes way, and none lingers yet.
  EXPECT_FALSE(registry.admit(&accepted("192.0.2.1", soon), Arrival::kSilent, soon));
  EXPECT_TRUE(registry.admit(&accepted("192.0.2.1", soon), Arrival::kRequestSent, soon));
  EXPECT_TRUE(older.yield);
  EXPECT_FALSE(newer.yield);
}

TEST_F(ConnectionRegistryTest, AConnectionAskedToMakeWayNoLongerHoldsAPlace) {
  ConnectionRegistry registry{ConnectionLimits{.per_address = 2, .lingering_per_address = 16}};
  Connection& first = accepted();
  Connection& second = accepted();
  ASSERT_TRUE(registry.admit(&first, Arrival::kSilent, t0));
  ASSERT_TRUE(registry.admit(&second, Arrival::kSilent, t0));
  const auto later = t0 + kLater;
  // Two newcomers each displace one; a third finds both places being given
  // up and the two newcomers at work.
  Connection& one = accepted("192.0.2.1", later);
  Connection& two = accepted("192.0.2.1", later);
  ASSERT_TRUE(registry.admit(&one, Arrival::kRequestSent, later));
  ASSERT_TRUE(registry.admit(&two, Arrival::kRequestSent, later));
  EXPECT_TRUE(first.yield && second.yield);
  one.enter(Phase::kServing, later);
  two.enter(Phase::kServing, later);
  EXPECT_FALSE(registry.admit(&accepted("192.0.2.1", later), Arrival::kRequestSent, later));
  // Whether gone already or still closing, one that leaves frees its place.
  registry.remove(&first);
  one.yield = true;
  EXPECT_TRUE(registry.admit(&accepted("192.0.2.1", later), Arrival::kRequestSent, later));
}

TEST_F(ConnectionRegistryTest, AtTheCapConnectionsAtWorkAreNeverDisplaced) {
  ConnectionRegistry registry{ConnectionLimits{.per_address = 1, .lingering_per_address = 16}};
  Connection& busy = accepted();
  ASSERT_TRUE(registry.admit(&busy, Arrival::kSilent, t0));
  busy.enter(Phase::kServing, t0);
  const auto later = t0 + kLater;
  EXPECT_FALSE(registry.admit(&accepted("192.0.2.1", later), Arrival::kRequestSent, later));
  // Once the server has decided to close it, its place is free at once.
  registry.remove(&busy);
  EXPECT_TRUE(registry.admit(&accepted("192.0.2.1", later), Arrival::kRequestSent, later));
  registry.remove(&busy);  // again: nothing changes
  EXPECT_EQ(registry.count("192.0.2.1"), 1u);
}

TEST_F(ConnectionRegistryTest, AConnectionNotCountedMayAlwaysLinger) {
  Connection& proxy = accepted("10.0.0.1");
  EXPECT_TRUE(registry_.may_linger(&proxy, t0 + kLater));
  EXPECT_EQ(registry_.count("10.0.0.1"), 0u);
}

}  // namespace
}  // namespace calndro::gateway
