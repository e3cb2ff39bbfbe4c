#include <gtest/gtest.h>

#include "common/crypto/crypto.h"

namespace calndro {
namespace {

TEST(PasswordHashingSlot, ABoundedWaitGivesUpWhileTheSlotIsTaken) {
  {
    PasswordHashingSlot held;
    EXPECT_TRUE(held.acquired());
    PasswordHashingSlot none(std::chrono::milliseconds(0));
    EXPECT_FALSE(none.acquired());
    PasswordHashingSlot late(std::chrono::milliseconds(20));
    EXPECT_FALSE(late.acquired());
  }
  // The refused ones released nothing they did not hold: the slot is free.
  PasswordHashingSlot again(std::chrono::milliseconds(0));
  EXPECT_TRUE(again.acquired());
}

}  // namespace
}  // namespace calndro
