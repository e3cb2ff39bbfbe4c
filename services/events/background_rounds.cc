#include "events/background_rounds.h"

#include <exception>
#include <utility>

#include "common/base/log.h"

namespace calndro::events {

BackgroundRounds::BackgroundRounds(Options options, Round round)
    : options_(std::move(options)),
      round_(std::move(round)),
      thread_([this](const std::stop_token& stop) { loop(stop); }) {}

void BackgroundRounds::wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  wake_.notify_one();
}

void BackgroundRounds::loop(const std::stop_token& stop) {
  std::unique_lock lock(mutex_);
  while (!stop.stop_requested()) {
    woken_ = false;
    lock.unlock();
    const int handled = run_round();
    lock.lock();
    if (handled < options_.batch) {
      wake_.wait_for(lock, stop, options_.pause, [this] { return woken_; });
    }
  }
}

int BackgroundRounds::run_round() {
  try {
    const absl::StatusOr<int> handled = round_();
    if (handled.ok()) {
      return *handled;
    }
    log::warn(options_.what + " failed; next try later",
              {{"code", static_cast<int>(handled.status().code())},
               {"error", std::string(handled.status().message())}});
  } catch (const std::exception& error) {
    log::warn(options_.what + " failed; next try later", {{"error", error.what()}});
  }
  return 0;
}

}  // namespace calndro::events
