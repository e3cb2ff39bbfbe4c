#include "events/credential_cache.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include "fake_clock.h"

namespace calndro::events {
namespace {

class CredentialCacheTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_GE(sodium_init(), 0); }
  FakeClock clock;
};

TEST_F(CredentialCacheTest, RemembersOnlyTheVerifiedPair) {
  CredentialCache cache(clock, std::chrono::seconds(60), 100);
  cache.remember("$argon2id$hash-1", "secret");
  EXPECT_TRUE(cache.contains("$argon2id$hash-1", "secret"));
  EXPECT_FALSE(cache.contains("$argon2id$hash-1", "Secret"));
  // A new password means a new stored hash: the old entry cannot match.
  EXPECT_FALSE(cache.contains("$argon2id$hash-2", "secret"));
}

TEST_F(CredentialCacheTest, ExpiresTtlAfterItsLastUse) {
  CredentialCache cache(clock, std::chrono::seconds(60), 100);
  cache.remember("h", "p");
  clock.advance(std::chrono::seconds(61));
  EXPECT_FALSE(cache.contains("h", "p"));
  cache.remember("h", "p");
  // Used every 59 s, it stays (steady traffic never sees it lapse) ...
  for (int i = 0; i < 5; ++i) {
    clock.advance(std::chrono::seconds(59));
    EXPECT_TRUE(cache.contains("h", "p")) << i;
  }
  // ... and goes once idle for longer than the time to live.
  clock.advance(std::chrono::seconds(61));
  EXPECT_FALSE(cache.contains("h", "p"));
}

TEST_F(CredentialCacheTest, StaysBounded) {
  CredentialCache cache(clock, std::chrono::seconds(60), 10);
  for (int i = 0; i < 25; ++i) {
    cache.remember("h", "p" + std::to_string(i));
    EXPECT_LE(cache.size(), 10u);
  }
  EXPECT_TRUE(cache.contains("h", "p24"));
}

TEST_F(CredentialCacheTest, SeparatorPreventsAmbiguousPairs) {
  CredentialCache cache(clock, std::chrono::seconds(60), 10);
  cache.remember("ab", "c");
  EXPECT_FALSE(cache.contains("a", "bc"));
}

}  // namespace
}  // namespace calndro::events
