#include "events/known_users.h"

#include <gtest/gtest.h>

namespace calndro::events {
namespace {

TEST(KnownUsers, AllMustBeKnownAndTheSetStaysBounded) {
  KnownUsers known(4);
  EXPECT_TRUE(known.contain_all({}));
  EXPECT_FALSE(known.contain_all({"ann@example.com"}));
  known.add({"ann@example.com", "bob@example.com"});
  EXPECT_TRUE(known.contain_all({"bob@example.com", "ann@example.com"}));
  EXPECT_FALSE(known.contain_all({"ann@example.com", "eve@example.com"}));
  known.add({"cat@example.com", "dan@example.com", "eve@example.com"});  // over capacity: starts over
  EXPECT_LE(known.size(), 4U);
  EXPECT_TRUE(known.contain_all({"cat@example.com", "dan@example.com", "eve@example.com"}));
  EXPECT_FALSE(known.contain_all({"ann@example.com"}));
  known.forget_all();
  EXPECT_EQ(known.size(), 0U);
  EXPECT_FALSE(known.contain_all({"cat@example.com"}));
}

}  // namespace
}  // namespace calndro::events
