#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace calndro::events {

// A background job of the event service (the relay, the deadline mails, the
// retention purge): rounds on a thread of its own, from construction until
// destruction. A round answers how many items it handled; after fewer than
// `batch` the thread waits `pause` or until wake(), after a full batch it
// goes on at once (more may be due). Each round is one unit of work, so a
// refused (Status) or failed (exception) round changed nothing: it is logged
// ("<what> failed; next try later") and the next tick tries again.
class BackgroundRounds {
 public:
  struct Options {
    std::string what;
    std::chrono::milliseconds pause{1000};
    int batch = 1;
  };
  using Round = std::function<absl::StatusOr<int>()>;

  BackgroundRounds(Options options, Round round);
  BackgroundRounds(const BackgroundRounds&) = delete;
  BackgroundRounds& operator=(const BackgroundRounds&) = delete;

  // Runs the next round now rather than at the end of the pause.
  void wake();

 private:
  void loop(const std::stop_token& stop);
  // One round, its refusal or failure logged; how many items it handled.
  int run_round();

  const Options options_;
  const Round round_;
  std::mutex mutex_;
  std::condition_variable_any wake_;
  bool woken_ = false;
  std::jthread thread_;  // last: stopped and joined first
};

}  // namespace calndro::events
