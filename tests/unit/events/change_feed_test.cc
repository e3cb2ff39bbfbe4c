// What the change feed accepts of an announcement (migration 0013 sends
// "ID:VERSION"); anything else is ignored rather than misread.
#include "events/change_feed.h"

#include <gtest/gtest.h>

namespace calndro::events {
namespace {

TEST(ChangeFeed, ReadsIdAndVersion) {
  std::int64_t id = 0;
  std::int64_t version = 0;
  ASSERT_TRUE(parse_announcement("42:7", id, version));
  EXPECT_EQ(id, 42);
  EXPECT_EQ(version, 7);
  ASSERT_TRUE(parse_announcement("9223372036854775807:1", id, version));
  EXPECT_EQ(id, 9223372036854775807);
}

TEST(ChangeFeed, RefusesAnythingElse) {
  std::int64_t id = 0;
  std::int64_t version = 0;
  for (const char* payload : {"", ":", "42", "42:", ":7", "42:7:1", "a:7", "42:b", "-1:7", "0:7", "42:0",
                              " 42:7", "42:7 ", "9223372036854775808:1"}) {
    EXPECT_FALSE(parse_announcement(payload, id, version)) << "'" << payload << "'";
  }
}

}  // namespace
}  // namespace calndro::events
