#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

// Runs a cancellation when a deadline passes before the work it guards ends:
// the event service cancels the database statement of an RPC whose caller's
// deadline has passed (a write waiting for a row lock held elsewhere), so
// that the statement rolls back instead of landing after the caller was told
// it failed. One watcher thread serves every watch of the process; a watch
// costs no database round trip, only when its deadline passes does the
// watcher act.
namespace calndro {

class DeadlineWatch {
 public:
  using TimePoint = std::chrono::system_clock::time_point;
  // Calls `cancel`, once, on the watcher's thread, if `deadline` passes
  // while this watch lives. No deadline: never.
  DeadlineWatch(std::optional<TimePoint> deadline, std::function<void()> cancel);
  // Once it returns, `cancel` is not running and never will.
  ~DeadlineWatch();
  DeadlineWatch(const DeadlineWatch&) = delete;
  DeadlineWatch& operator=(const DeadlineWatch&) = delete;

  // Whether `cancel` ran (valid after it returned, e.g. when the guarded
  // work failed).
  bool fired() const;

  struct Entry;

 private:
  std::unique_ptr<Entry> entry_;
};

}  // namespace calndro
