// The webhook signature against the Standard Webhooks specification's own
// example and against an independent implementation (tools/verify_webhook.py,
// Python's hmac and hashlib); the secrets' form; their encryption at rest;
// the retry schedule.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "notify/webhook_crypto.h"
#include "notify/webhook_dispatcher.h"
#include "support/counting_random.h"

namespace calndro::notify {
namespace {

using calndro::testing::CountingRandom;

TEST(WebhookSignature, MatchesTheSpecificationsExample) {
  const auto key = webhook_secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(webhook_signature(*key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, R"({"test": 2432232314})"),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST(WebhookSignature, AnIndependentImplementationAgrees) {
  // Signed here, checked by Python's hmac: bodies with non-ASCII text,
  // quotes and newlines, as event titles may hold.
  SystemRandom random;
  const std::string secret = new_webhook_secret(random);
  const auto key = webhook_secret_key(secret);
  ASSERT_TRUE(key.has_value());
  const auto record =
      std::filesystem::temp_directory_path() / ("calndro-webhook-sig-" + std::to_string(::getpid()));
  {
    std::ofstream out(record);
    const std::vector<std::string> bodies = {R"({"type":"event.created","data":{"title":"Café \"ü\"\n☕"}})",
                                             "{}", std::string(5000, 'x')};
    for (std::size_t i = 0; i < bodies.size(); ++i) {
      const std::string id = "msg_" + std::to_string(i + 1);
      const std::int64_t stamp = 1700000000 + static_cast<std::int64_t>(i);
      const nlohmann::json headers = {{"webhook-id", id},
                                      {"webhook-timestamp", std::to_string(stamp)},
                                      {"webhook-signature", webhook_signature(*key, id, stamp, bodies[i])}};
      out << nlohmann::json{{"headers", headers}, {"body", bodies[i]}}.dump() << "\n";
    }
  }
  const std::string command = "/usr/bin/python3 " + std::string(CALNDRO_SOURCE_DIR) +
                              "/tools/verify_webhook.py " + secret + " " + record.string() + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[256];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) {
    output += buffer;
  }
  const int status = ::pclose(pipe);
  std::filesystem::remove(record);
  EXPECT_EQ(status, 0) << output;
  EXPECT_EQ(output, "ok msg_1\nok msg_2\nok msg_3\n");
}

TEST(WebhookSignature, AnotherKeyOrBodyGivesAnotherSignature) {
  const std::string a = webhook_signature("key-a", "msg_1", 1, "{}");
  EXPECT_NE(a, webhook_signature("key-b", "msg_1", 1, "{}"));
  EXPECT_NE(a, webhook_signature("key-a", "msg_2", 1, "{}"));
  EXPECT_NE(a, webhook_signature("key-a", "msg_1", 2, "{}"));
  EXPECT_NE(a, webhook_signature("key-a", "msg_1", 1, "{ }"));
}

TEST(WebhookSecret, IsWhsecAndTheBase64Of24RandomBytes) {
  SystemRandom random;
  const std::string secret = new_webhook_secret(random);
  ASSERT_TRUE(secret.starts_with("whsec_"));
  EXPECT_EQ(secret.size(), 6U + 32U);
  const auto key = webhook_secret_key(secret);
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->size(), 24U);
  EXPECT_NE(secret, new_webhook_secret(random));
  EXPECT_FALSE(webhook_secret_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").has_value());
  EXPECT_FALSE(webhook_secret_key("whsec_not base64!").has_value());
  EXPECT_FALSE(webhook_secret_key("whsec_").has_value());
}

TEST(WebhookSecretBox, SealsSoThatOnlyItsKeyOpens) {
  CountingRandom random;
  const auto box = SecretBox::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
  const auto other = SecretBox::from_base64("HwECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
  ASSERT_TRUE(box.ok() && other.ok());
  const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const std::string sealed = box->seal(secret, random);
  EXPECT_EQ(sealed.find("MfKQ9r8G"), std::string::npos) << "the secret is not stored in clear";
  EXPECT_NE(sealed, box->seal(secret, random)) << "a fresh nonce each time";
  const auto opened = box->open(sealed);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, secret);
  EXPECT_EQ(other->open(sealed).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_FALSE(box->open("bm90IHNlYWxlZA==").ok());
  EXPECT_FALSE(SecretBox::from_base64("c2hvcnQ=").ok());
}

TEST(WebhookSecretBox, KeyFileIsCreatedOnceWhenAskedAndRefusedWhenMissing) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("calndro-webhook-key-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / "webhook.key";
  EXPECT_FALSE(SecretBox::load(path, MissingKey::kRefuse).ok());
  const auto made = SecretBox::load(path, MissingKey::kCreate);
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  CountingRandom random;
  const auto again = SecretBox::load(path, MissingKey::kCreate);  // kept, not made anew
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again->open(made->seal("x", random)), "x");
  std::filesystem::remove_all(dir);
}

TEST(WebhookRetries, FollowTheScheduleForADay) {
  using std::chrono::hours;
  using std::chrono::milliseconds;
  using std::chrono::minutes;
  using std::chrono::seconds;
  const milliseconds first = seconds(5);
  EXPECT_EQ(webhook_retry_delay(1, first), seconds(5));
  EXPECT_EQ(webhook_retry_delay(2, first), seconds(30));
  EXPECT_EQ(webhook_retry_delay(3, first), minutes(2));
  EXPECT_EQ(webhook_retry_delay(4, first), minutes(10));
  EXPECT_EQ(webhook_retry_delay(5, first), minutes(30));
  EXPECT_EQ(webhook_retry_delay(6, first), hours(1));
  EXPECT_EQ(webhook_retry_delay(7, first), hours(3));
  EXPECT_EQ(webhook_retry_delay(12, first), hours(3));
  EXPECT_EQ(webhook_retry_delay(1, milliseconds(100)), milliseconds(100));
  // Every attempt at its time: the first at the occurrence, and no retry
  // later than 24 hours after it.
  const Instant occurred = Instant(Micros(0));
  Instant now = occurred;
  int attempts = 1;
  while (const auto next = next_webhook_attempt(attempts, occurred, now, first)) {
    EXPECT_LE(*next - occurred, hours(24));
    now = *next;
    ++attempts;
  }
  // 5 s + 30 s + 2 + 10 + 30 min + 1 h = 1 h 42 min 35 s, then every 3 h: 7 more.
  EXPECT_EQ(attempts, 7 + 7);
}

}  // namespace
}  // namespace calndro::notify
