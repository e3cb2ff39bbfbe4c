#include "common/base/status_macros.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace calndro {
namespace {

absl::Status fail_if(bool fail) {
  return fail ? absl::NotFoundError("missing") : absl::OkStatus();
}

absl::StatusOr<int> number_or(bool fail) {
  if (fail) {
    return absl::InvalidArgumentError("not a number");
  }
  return 42;
}

// Counts how far a function got, to show where a macro returned.
absl::Status two_checks(bool first_fails, bool second_fails, int& reached) {
  reached = 0;
  CALNDRO_RETURN_IF_ERROR(fail_if(first_fails));
  reached = 1;
  CALNDRO_RETURN_IF_ERROR(number_or(second_fails));  // a StatusOr's status counts too
  reached = 2;
  return absl::OkStatus();
}

TEST(ReturnIfError, PassesOkThrough) {
  int reached = -1;
  EXPECT_TRUE(two_checks(false, false, reached).ok());
  EXPECT_EQ(reached, 2);
}

TEST(ReturnIfError, ReturnsTheFirstFailure) {
  int reached = -1;
  const absl::Status status = two_checks(true, true, reached);
  EXPECT_EQ(status, absl::NotFoundError("missing"));
  EXPECT_EQ(reached, 0);
}

TEST(ReturnIfError, TakesTheStatusOfAStatusOr) {
  int reached = -1;
  EXPECT_EQ(two_checks(false, true, reached), absl::InvalidArgumentError("not a number"));
  EXPECT_EQ(reached, 1);
}

TEST(ReturnIfError, EvaluatesItsExpressionOnce) {
  int calls = 0;
  auto counted = [&calls] {
    ++calls;
    return absl::OkStatus();
  };
  auto run = [&]() -> absl::Status {
    CALNDRO_RETURN_IF_ERROR(counted());
    return absl::OkStatus();
  };
  EXPECT_TRUE(run().ok());
  EXPECT_EQ(calls, 1);
}

absl::StatusOr<std::string> doubled(bool fail) {
  CALNDRO_ASSIGN_OR_RETURN(const int number, number_or(fail));
  return std::to_string(number * 2);
}

TEST(AssignOrReturn, DeclaresTheValue) {
  EXPECT_EQ(doubled(false).value(), "84");
}

TEST(AssignOrReturn, ReturnsTheFailureIntoAnyStatusOr) {
  EXPECT_EQ(doubled(true).status(), absl::InvalidArgumentError("not a number"));
}

absl::Status assign_twice(int& out) {
  CALNDRO_ASSIGN_OR_RETURN(out, number_or(false));  // an lvalue
  CALNDRO_ASSIGN_OR_RETURN(out, number_or(true));   // two on a function: distinct temporaries
  out = -1;
  return absl::OkStatus();
}

TEST(AssignOrReturn, AssignsAnLvalueAndStopsAtTheFailure) {
  int out = 0;
  EXPECT_EQ(assign_twice(out), absl::InvalidArgumentError("not a number"));
  EXPECT_EQ(out, 42);
}

TEST(AssignOrReturn, MovesAMoveOnlyValue) {
  auto make = []() -> absl::StatusOr<std::unique_ptr<int>> { return std::make_unique<int>(7); };
  auto run = [&]() -> absl::StatusOr<int> {
    CALNDRO_ASSIGN_OR_RETURN(std::unique_ptr<int> owned, make());
    return *owned;
  };
  EXPECT_EQ(run().value(), 7);
}

}  // namespace
}  // namespace calndro
