#include <gtest/gtest.h>

#include "common/crypto/crypto.h"
#include "service_fixture.h"

// CreateApiToken when the database refuses a run: the refusal is the
// answer, never taken for "no such user" or "not minted".
namespace calndro::events {
namespace {

class ApiTokenTest : public ServiceFixture {
 protected:
  void SetUp() override {
    init_crypto();
    stores_.add_user("owner@here.net");
    stores_.state.users.begin()->second.password_hash = hash_password("owner-Pass-1");
  }

  absl::Status create_token(v1::CreateApiTokenResponse& response) {
    v1::CreateApiTokenRequest request;
    request.set_username("owner@here.net");
    request.set_password("owner-Pass-1");
    return call(&EventServiceImpl::CreateApiToken, {{"x-request-id", "req-1"}}, request, response);
  }
};

TEST_F(ApiTokenTest, MintsAKeyForTheRightPassword) {
  v1::CreateApiTokenResponse response;
  ASSERT_TRUE(create_token(response).ok());
  EXPECT_FALSE(response.token().empty());
  EXPECT_EQ(stores_.state.api_tokens.count(sha256_hex(response.token())), 1u);
}

TEST_F(ApiTokenTest, AnsweredWithTheDatabasesRefusalOfTheLookUp) {
  stores_.next_runs = {absl::DeadlineExceededError("deadline passed")};
  v1::CreateApiTokenResponse response;
  EXPECT_EQ(create_token(response), absl::DeadlineExceededError("deadline passed"));
  EXPECT_TRUE(response.token().empty());
}

TEST_F(ApiTokenTest, AnsweredWithTheDatabasesRefusalOfTheMint) {
  const std::size_t keys_before = stores_.state.api_tokens.size();
  stores_.next_runs = {absl::OkStatus(), absl::DeadlineExceededError("deadline passed")};
  v1::CreateApiTokenResponse response;
  EXPECT_EQ(create_token(response), absl::DeadlineExceededError("deadline passed"));
  EXPECT_TRUE(response.token().empty());
  EXPECT_EQ(stores_.state.api_tokens.size(), keys_before);
}

}  // namespace
}  // namespace calndro::events
