#include <gtest/gtest.h>

#include <chrono>

#include "common/db/unit_of_work.h"

namespace calndro {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

TEST(CallContext, ABackgroundJobIsAlwaysWanted) {
  const CallContext call = CallContext::background();
  EXPECT_FALSE(call.deadline.has_value());
  EXPECT_TRUE(call.within_deadline().ok());
  EXPECT_TRUE(call.still_wanted().ok());
  EXPECT_NO_THROW(throw_if_past_deadline(call));
}

TEST(CallContext, PastItsDeadlineNothingStarts) {
  CallContext call;
  call.deadline = system_clock::now() - seconds(1);
  EXPECT_EQ(call.within_deadline().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(call.still_wanted().code(), absl::StatusCode::kDeadlineExceeded);
  try {
    throw_if_past_deadline(call);
    ADD_FAILURE() << "not thrown";
  } catch (const CallAbandoned& abandoned) {
    EXPECT_EQ(abandoned.status().code(), absl::StatusCode::kDeadlineExceeded);
  }
}

TEST(CallContext, ACancelledCallIsNotWantedButStillWithinItsDeadline) {
  int asked = 0;
  CallContext call;
  call.deadline = system_clock::now() + seconds(60);
  call.cancelled = [&asked] {
    ++asked;
    return true;
  };
  EXPECT_TRUE(call.within_deadline().ok());
  EXPECT_EQ(asked, 0);  // the cheap check never polls gRPC
  EXPECT_EQ(call.still_wanted().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(asked, 1);
}

}  // namespace
}  // namespace calndro
