// Authenticator::check_password under concurrency: requests with the same,
// right password arriving together must not lock their own account out.
#include <gtest/gtest.h>
#include <sodium.h>

#include "common/crypto/crypto.h"
#include "events/authenticator.h"
#include "events/credential_cache.h"
#include "events/login_throttle.h"
#include "fake_clock.h"
#include "fakes.h"

namespace calndro::events {
namespace {

class PasswordCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_GE(sodium_init(), 0);
    user_.id = 7;
    user_.email = "ann@example.org";
    user_.password_hash = hash_password("right-Pass-1");
    user_.active = true;
  }

  FakeClock clock_;
  FakeStores stores_;
  FakeNotifications notifications_;
  CredentialCache cache_{clock_, std::chrono::seconds(60), 100};
  LoginThrottle throttle_{clock_, LoginLimits{}};
  Authenticator authenticator_{clock_, stores_, cache_, throttle_, notifications_};
  User user_;
};

TEST_F(PasswordCheckTest, ARightPasswordVerifiedMeanwhileIsNotCountedAsAGuess) {
  const PasswordLogin login{user_.email, "right-Pass-1"};
  ASSERT_TRUE(authenticator_.check_password(login, "192.0.2.1", user_, "refused").ok());
  // As many checks of this login in flight as the account may fail (each
  // counted before its argon2id run): the next would be throttled ...
  const std::string account = throttle_.account_key(login.login);
  for (int i = 0; i < throttle_.limits().failures_per_account; ++i) {
    Instant counted_at;
    ASSERT_FALSE(throttle_.count_failure(account, "192.0.2.1", counted_at).has_value()) << i;
  }
  const PasswordLogin wrong{user_.email, "wrong-Pass-1"};
  EXPECT_EQ(authenticator_.check_password(wrong, "192.0.2.1", user_, "refused").status().code(),
            absl::StatusCode::kResourceExhausted);
  // ... but the password this process verified a moment ago is no guess.
  const auto verified = authenticator_.check_password(login, "192.0.2.1", user_, "refused");
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->user_id, user_.id);
}

}  // namespace
}  // namespace calndro::events
