#pragma once

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// The one error channel of the services is absl::Status / absl::StatusOr:
// these two macros spell the "stop here and hand the failure up" that
// otherwise takes three lines (and invites forgetting a branch).
//
//   CALNDRO_RETURN_IF_ERROR(check(request));
//   CALNDRO_ASSIGN_OR_RETURN(const User user, find_user(id));
//
// Both evaluate `expr` once. The enclosing function returns absl::Status or
// any absl::StatusOr<T> (a non-OK Status converts to either).
namespace calndro::status_internal {

inline const absl::Status& status_of(const absl::Status& status) {
  return status;
}
inline absl::Status status_of(absl::Status&& status) {
  return std::move(status);
}
template <typename T>
const absl::Status& status_of(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}
template <typename T>
absl::Status status_of(absl::StatusOr<T>&& status_or) {
  return std::move(status_or).status();
}

}  // namespace calndro::status_internal

#define CALNDRO_STATUS_CONCAT_INNER_(a, b) a##b
#define CALNDRO_STATUS_CONCAT_(a, b) CALNDRO_STATUS_CONCAT_INNER_(a, b)

// Returns the status of `expr` (a Status or a StatusOr) from the enclosing
// function when it is not OK.
#define CALNDRO_RETURN_IF_ERROR(expr)                                                 \
  do {                                                                                \
    if (::absl::Status calndro_status_ = ::calndro::status_internal::status_of(expr); \
        !calndro_status_.ok()) {                                                      \
      return calndro_status_;                                                         \
    }                                                                                 \
  } while (false)

// Evaluates `expr` (a StatusOr<T>); returns its status from the enclosing
// function when it is not OK, else moves its value into `lhs`, a declaration
// (`const auto user`) or an lvalue. A type with a comma in `lhs` needs an
// alias first. Expands to several statements: not the lone body of an `if`
// without braces (the house style always has braces).
#define CALNDRO_ASSIGN_OR_RETURN(lhs, expr) \
  CALNDRO_ASSIGN_OR_RETURN_IMPL_(CALNDRO_STATUS_CONCAT_(calndro_status_or_, __LINE__), lhs, expr)

// No parentheses around the arguments here (clang-tidy's
// bugprone-macro-parentheses asks for them): `lhs` is a declaration
// (`const auto user`), which they would break, and `status_or` is the name
// of the variable this macro declares, never an expression of the caller's.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define CALNDRO_ASSIGN_OR_RETURN_IMPL_(status_or, lhs, expr) \
  auto status_or = (expr);                                   \
  if (!status_or.ok()) {                                     \
    return std::move(status_or).status();                    \
  }                                                          \
  lhs = std::move(status_or).value()
// NOLINTEND(bugprone-macro-parentheses)
