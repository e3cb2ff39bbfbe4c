#include "events/login_throttle.h"

#include <gtest/gtest.h>

#include "fake_clock.h"

#include "support/cases.h"

namespace calndro::events {
namespace {

using std::chrono::seconds;

class LoginThrottleTest : public ::testing::Test {
 protected:
  LoginLimits limits(int per_account, int per_address, int window_seconds = 300) {
    LoginLimits out;
    out.failures_per_account = per_account;
    out.failures_per_address = per_address;
    out.window = seconds(window_seconds);
    return out;
  }
  // Counts one failure; false when the throttle refused to count it.
  bool fail(LoginThrottle& throttle, const std::string& login, const std::string& address) {
    Instant at;
    return !throttle.count_failure(throttle.account_key(login), address, at).has_value();
  }
  FakeClock clock;
};

TEST_F(LoginThrottleTest, AccountLimitBlocksEveryAddressUntilTheWindowPasses) {
  LoginThrottle throttle(clock, limits(3, 100));
  const std::string alice = throttle.account_key("alice");
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(throttle.retry_after(alice, "10.0.0.1"));
    EXPECT_TRUE(fail(throttle, "alice", "10.0.0.1"));
    clock.advance(seconds(10));
  }
  // Failures at t=0, 10, 20; now t=30: the first leaves the window at t=300.
  const auto wait = throttle.retry_after(alice, "10.0.0.2");
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, seconds(270));
  EXPECT_FALSE(fail(throttle, "alice", "10.0.0.3")) << "a blocked login is not checked, nor counted";
  EXPECT_FALSE(throttle.retry_after(throttle.account_key("bob"), "10.0.0.1"))
      << "other accounts are not blocked";
  clock.advance(seconds(270));
  EXPECT_FALSE(throttle.retry_after(alice, "10.0.0.2"));
}

TEST_F(LoginThrottleTest, AccountKeyIgnoresCase) {
  LoginThrottle throttle(clock, limits(2, 100));
  EXPECT_TRUE(fail(throttle, "Alice@Example.COM", "10.0.0.1"));
  EXPECT_TRUE(fail(throttle, "alice@example.com", "10.0.0.1"));
  EXPECT_TRUE(throttle.retry_after(throttle.account_key("ALICE@example.com"), "10.0.0.9"));
  EXPECT_NE(throttle.account_key("alice"), "alice") << "logins are not kept in clear";
}

TEST_F(LoginThrottleTest, AddressLimitBlocksEveryAccountFromThatAddress) {
  LoginThrottle throttle(clock, limits(10, 4));
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(fail(throttle, "user" + std::to_string(i), "192.0.2.7"));
  }
  EXPECT_TRUE(throttle.retry_after(throttle.account_key("fresh"), "192.0.2.7"));
  EXPECT_FALSE(throttle.retry_after(throttle.account_key("fresh"), "192.0.2.8"));
}

TEST_F(LoginThrottleTest, SuccessResetsTheAccountButNotOtherFailuresOfTheAddress) {
  LoginThrottle throttle(clock, limits(3, 5));
  const std::string alice = throttle.account_key("alice");
  EXPECT_TRUE(fail(throttle, "alice", "10.0.0.1"));
  EXPECT_TRUE(fail(throttle, "alice", "10.0.0.1"));
  Instant at;
  ASSERT_FALSE(throttle.count_failure(alice, "10.0.0.1", at));
  throttle.succeeded(alice, "10.0.0.1", at);
  // The account starts again from zero; the address keeps its two failures.
  EXPECT_TRUE(fail(throttle, "alice", "10.0.0.1"));
  EXPECT_TRUE(fail(throttle, "alice", "10.0.0.1"));
  EXPECT_FALSE(throttle.retry_after(alice, "10.0.0.2"));
  EXPECT_TRUE(fail(throttle, "bob", "10.0.0.1"));
  EXPECT_TRUE(throttle.retry_after(throttle.account_key("carol"), "10.0.0.1"))
      << "2 + 2 + 1 = 5 from the address";
}

TEST_F(LoginThrottleTest, AVerifiedLoginResetsTheAccount) {
  LoginThrottle throttle(clock, limits(2, 100));
  EXPECT_TRUE(fail(throttle, "alice", "10.0.0.1"));
  throttle.succeeded(throttle.account_key("alice"));
  EXPECT_TRUE(fail(throttle, "alice", "10.0.0.1"));
  EXPECT_FALSE(throttle.retry_after(throttle.account_key("alice"), "10.0.0.1"));
}

TEST_F(LoginThrottleTest, WithdrawnAttemptsCountForNothing) {
  LoginThrottle throttle(clock, limits(1, 1));
  const std::string alice = throttle.account_key("alice");
  Instant at;
  ASSERT_FALSE(throttle.count_failure(alice, "10.0.0.1", at));
  EXPECT_TRUE(throttle.retry_after(alice, "10.0.0.1")) << "counted while it runs: concurrent attempts wait";
  throttle.withdraw(alice, "10.0.0.1", at);
  EXPECT_FALSE(throttle.retry_after(alice, "10.0.0.1"));
  EXPECT_EQ(throttle.keys(), 0u);
}

TEST_F(LoginThrottleTest, SlidingWindowFreesOneAttemptAtATime) {
  LoginThrottle throttle(clock, limits(2, 100, 60));
  const std::string alice = throttle.account_key("alice");
  EXPECT_TRUE(fail(throttle, "alice", "10.0.0.1"));  // t=0
  clock.advance(seconds(30));
  EXPECT_TRUE(fail(throttle, "alice", "10.0.0.1"));  // t=30
  EXPECT_EQ(throttle.retry_after(alice, "10.0.0.1"), seconds(30));
  clock.advance(seconds(30));                        // t=60: the first left
  EXPECT_TRUE(fail(throttle, "alice", "10.0.0.1"));  // t=60
  EXPECT_EQ(throttle.retry_after(alice, "10.0.0.1"), seconds(30));
}

TEST_F(LoginThrottleTest, StaysBounded) {
  LoginThrottle throttle(clock, limits(10, 1000000), 100);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_TRUE(fail(throttle, "user" + std::to_string(i), "10.0.0.1"));
    clock.advance(std::chrono::milliseconds(1));
  }
  EXPECT_LE(throttle.keys(), 101u);  // at most 100 accounts, and the address
  // The most recent failures are the ones kept.
  for (int i = 0; i < 9; ++i) {
    EXPECT_TRUE(fail(throttle, "user999", "10.0.0.1"));
  }
  EXPECT_TRUE(throttle.retry_after(throttle.account_key("user999"), "10.0.0.2"));
}

TEST(ClientAddressKey, ParsesForwardedAddressesAndGrpcPeers) {
  const auto key = [](const std::string& address) { return client_address_key(address); };
  testing::expect_maps(key, {{"203.0.113.9", "203.0.113.9"},
                             {"ipv4:127.0.0.1:54321", "127.0.0.1"},
                             {"ipv6:[::1]:54321", "::/64"},
                             {"ipv6:%5B2001:db8::7%5D:443", "2001:db8::/64"},
                             {"2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"},
                             {"::ffff:192.0.2.1", "192.0.2.1"}});
  EXPECT_EQ(key("2001:db8:1:2::1"), key("[2001:db8:1:2::ffff]")) << "one /64 is one client";
  testing::expect_none(key, {"", "unix:/tmp/socket", "not an address", "1.2.3.4, 5.6.7.8"});
}

}  // namespace
}  // namespace calndro::events
