#include "events/email_token_cache.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include "fake_clock.h"

namespace calndro::events {
namespace {

const std::string kToken = "0123456789abcdef0123456789abcdef01234567";

class EmailTokenCacheTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_GE(sodium_init(), 0); }
  ResolvedEmailToken resolved(std::int64_t event_id, Micros valid_for = std::chrono::hours(24 * 5)) {
    return ResolvedEmailToken{event_id, "party@here.net", "fp" + std::to_string(event_id),
                              clock.now() + valid_for};
  }
  FakeClock clock;
};

TEST_F(EmailTokenCacheTest, ReturnsWhatWasRemembered) {
  EmailTokenCache cache(clock, std::chrono::seconds(300), 100);
  EXPECT_FALSE(cache.find(kToken));
  cache.remember(kToken, resolved(7));
  const auto found = cache.find(kToken);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->event_id, 7);
  EXPECT_EQ(found->party_email, "party@here.net");
  EXPECT_EQ(found->fingerprint, "fp7");
  EXPECT_FALSE(cache.find("1123456789abcdef0123456789abcdef01234567"));
}

TEST_F(EmailTokenCacheTest, UpperCaseSpellingIsTheSameToken) {
  EmailTokenCache cache(clock, std::chrono::seconds(300), 100);
  cache.remember(kToken, resolved(7));
  EXPECT_TRUE(cache.find("0123456789ABCDEF0123456789ABCDEF01234567"));
}

TEST_F(EmailTokenCacheTest, ForgetsAfterTtl) {
  EmailTokenCache cache(clock, std::chrono::seconds(300), 100);
  cache.remember(kToken, resolved(7));
  clock.advance(std::chrono::seconds(299));
  EXPECT_TRUE(cache.find(kToken));
  clock.advance(std::chrono::seconds(2));
  EXPECT_FALSE(cache.find(kToken));
  EXPECT_EQ(cache.size(), 0u);
}

TEST_F(EmailTokenCacheTest, NeverKeepsAnEntryPastTheTokensExpiry) {
  EmailTokenCache cache(clock, std::chrono::seconds(300), 100);
  cache.remember(kToken, resolved(7, std::chrono::seconds(10)));
  clock.advance(std::chrono::seconds(9));
  EXPECT_TRUE(cache.find(kToken));
  clock.advance(std::chrono::seconds(1));
  EXPECT_FALSE(cache.find(kToken));
}

TEST_F(EmailTokenCacheTest, DoesNotKeepExpiredTokens) {
  EmailTokenCache cache(clock, std::chrono::seconds(300), 100);
  cache.remember(kToken, resolved(7, std::chrono::seconds(0)));
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_FALSE(cache.find(kToken));
}

TEST_F(EmailTokenCacheTest, ZeroTtlDisablesIt) {
  EmailTokenCache cache(clock, std::chrono::seconds(0), 100);
  cache.remember(kToken, resolved(7));
  EXPECT_FALSE(cache.find(kToken));
}

TEST_F(EmailTokenCacheTest, StaysBounded) {
  EmailTokenCache cache(clock, std::chrono::seconds(300), 10);
  std::string last;
  for (int i = 0; i < 25; ++i) {
    std::string token = kToken;
    token.replace(0, 2, (i < 10 ? "0" : "") + std::to_string(i));
    cache.remember(token, resolved(i));
    EXPECT_LE(cache.size(), 10u);
    last = token;
  }
  ASSERT_TRUE(cache.find(last));
  EXPECT_EQ(cache.find(last)->event_id, 24);
}

TEST_F(EmailTokenCacheTest, KeysDoNotHoldTheToken) {
  // Two caches (two processes) hash the same token differently, and a
  // lookup by the token's plain SHA-256 finds nothing.
  EmailTokenCache cache(clock, std::chrono::seconds(300), 10);
  cache.remember(kToken, resolved(1));
  EXPECT_FALSE(cache.find("8b7df143d91c716ecfa5fc1730022f6b421b05cedee8fd52b1fc65a96030ad52"));
}

}  // namespace
}  // namespace calndro::events
