#include "gateway/api/idempotency_key.h"

#include <gtest/gtest.h>

#include "gateway/server/front_door.h"

namespace calndro::gateway {
namespace {

httplib::Request with_keys(const std::vector<std::string>& keys) {
  httplib::Request request;
  for (const auto& key : keys) {
    request.headers.emplace(kIdempotencyKey, key);
  }
  return request;
}

TEST(IdempotencyKey, WithoutTheHeaderThereIsNoKey) {
  std::string key = "left over";
  EXPECT_FALSE(read_idempotency_key(with_keys({}), key).has_value());
  EXPECT_EQ(key, "");
}

TEST(IdempotencyKey, OneTo255VisibleAsciiCharactersAreAKey) {
  for (const std::string& value :
       {std::string("a"), std::string(255, 'z'), std::string("3f1c0e9a-7b1d-4c6e-9f2a-0d8b5e4c3a21"),
        std::string("~!\"#$%")}) {
    std::string key;
    EXPECT_FALSE(read_idempotency_key(with_keys({value}), key).has_value()) << value;
    EXPECT_EQ(key, value);
  }
}

TEST(IdempotencyKey, AnythingElseIsA400NamingTheHeader) {
  for (const std::string& value : {std::string(), std::string(256, 'z'), std::string("two words"),
                                   std::string("tab\t"), std::string("\xC3\xA9t\xC3\xA9")}) {
    std::string key;
    const auto error = read_idempotency_key(with_keys({value}), key);
    ASSERT_TRUE(error.has_value()) << value;
    EXPECT_EQ(error->status, 400);
    EXPECT_EQ(error->body["detail"].get<std::string>().rfind("Idempotency-Key: ", 0), 0u) << error->body;
    EXPECT_EQ(key, "");
  }
  std::string key;
  const auto twice = read_idempotency_key(with_keys({"a", "b"}), key);
  ASSERT_TRUE(twice.has_value());
  EXPECT_EQ(twice->status, 400);
}

TEST(IdempotencyKey, OnlyAReplayIsMarked) {
  httplib::Response fresh, replayed;
  mark_replayed(fresh, CallInfo{});
  mark_replayed(replayed, CallInfo{.replayed = true});
  EXPECT_FALSE(fresh.has_header(kIdempotentReplayed));
  EXPECT_EQ(replayed.get_header_value(kIdempotentReplayed), "true");
}

// httplib drops a header with an empty value: the front door finds it first.
TEST(IdempotencyKey, AnEmptyKeyOrConditionIsFoundInTheRawHead) {
  const std::string request_line = "POST / HTTP/1.1\r\nHost: x\r\n";
  EXPECT_EQ(empty_header_that_matters(request_line + "Idempotency-Key:\r\n\r\n"), "Idempotency-Key");
  EXPECT_EQ(empty_header_that_matters(request_line + "idempotency-key: \t \r\n\r\n"), "Idempotency-Key");
  EXPECT_EQ(empty_header_that_matters(request_line + "If-Match:\r\n\r\n"), "If-Match");
  EXPECT_EQ(empty_header_that_matters(request_line + "Idempotency-Key: k1\r\nX-Other:\r\n\r\n"), "");
  EXPECT_EQ(empty_header_that_matters(request_line + "\r\n"), "");
}

}  // namespace
}  // namespace calndro::gateway
