#include "gateway/api/preconditions.h"

#include <gtest/gtest.h>

#include "absl/strings/cord.h"
#include "calndro/events/v1/events.pb.h"
#include "common/grpc/rich_status.h"

namespace calndro::gateway {
namespace {

std::optional<std::int64_t> expected_of(std::string_view value) {
  std::optional<std::int64_t> expected = 99;
  const auto error = read_if_match(value, expected);
  EXPECT_FALSE(error.has_value()) << value;
  return expected;
}

TEST(Preconditions, TheETagIsTheVersionQuoted) {
  EXPECT_EQ(etag_of(7), "\"7\"");
}

TEST(Preconditions, IfMatchNamesTheVersionTheWriteExpects) {
  EXPECT_EQ(expected_of("\"3\""), 3);
  EXPECT_EQ(expected_of("  \"12\" "), 12);
  EXPECT_EQ(expected_of("\"3\", W/\"3\""), 3);
  EXPECT_EQ(expected_of("\"3\", \"3\""), 3);
  EXPECT_EQ(expected_of("*"), std::nullopt) << "any current event";
}

TEST(Preconditions, TagsThatCannotMatchExpectAVersionNoEventHas) {
  // RFC 9110 §13.1.1: If-Match compares strongly, so a weak tag never matches.
  EXPECT_EQ(expected_of("W/\"3\""), 0);
  EXPECT_EQ(expected_of("\"abc\""), 0);
  EXPECT_EQ(expected_of("\"03\""), 0);
  EXPECT_EQ(expected_of("\"\""), 0);
}

TEST(Preconditions, AMalformedIfMatchIsA400NamingTheHeader) {
  for (const std::string_view value : {"3", "\"3", "W/3", "", " , ", "\"3\" \"4\"", "\"3\", \"4\""}) {
    std::optional<std::int64_t> expected;
    const auto error = read_if_match(value, expected);
    ASSERT_TRUE(error.has_value()) << value;
    EXPECT_EQ(error->status, 400);
    EXPECT_NE(error->body.at("detail").get<std::string>().find("If-Match"), std::string::npos);
  }
}

TEST(Preconditions, AStaleWriteIs412WithTheCurrentEventAndItsETag) {
  calndro::events::v1::Event current;
  current.set_id(5);
  current.set_title("Lunch");
  current.set_version(4);
  current.add_parties("a@b.net");
  absl::Status stale(absl::StatusCode::kFailedPrecondition, "The event has changed.");
  stale.SetPayload("type.googleapis.com/calndro.events.v1.Event", absl::Cord(current.SerializeAsString()));
  const auto error = precondition_failed(to_grpc_status(stale), "http://h");
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->status, 412);
  EXPECT_EQ(error->body.at("detail"), "The event has changed.");
  EXPECT_EQ(error->body.at("event").at("id"), 5);
  EXPECT_EQ(error->body.at("event").at("title"), "Lunch");
  EXPECT_EQ(error->body.at("event").at("url"), "http://h/5/");
  ASSERT_EQ(error->headers.size(), 1u);
  EXPECT_EQ(error->headers[0], (std::pair<std::string, std::string>{"ETag", "\"4\""}));
}

TEST(Preconditions, OtherFailuresAreNotPreconditions) {
  EXPECT_FALSE(precondition_failed(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "x"), "http://h"));
  EXPECT_FALSE(precondition_failed(to_grpc_status(invalid_argument("slots", "bad")), "http://h"));
  EXPECT_FALSE(precondition_failed(grpc::Status(grpc::StatusCode::NOT_FOUND, "Not found."), "http://h"));
}

}  // namespace
}  // namespace calndro::gateway
