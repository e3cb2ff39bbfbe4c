#include "common/db/deadline_watch.h"

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "common/base/log.h"

namespace calndro {

struct DeadlineWatch::Entry {
  std::function<void()> cancel;
  bool watched = false;
  std::mutex running;  // held by the watcher while `cancel` runs
  bool fired = false;
};

namespace {

constexpr std::chrono::milliseconds kTick{50};

// The process's one watcher: the watches by deadline, and the thread that
// cancels those whose deadline passed. Never destroyed (the thread may be
// waiting when the process exits).
class Watcher {
 public:
  static Watcher& instance() {
    static auto* watcher = new Watcher();
    return *watcher;
  }

  void add(DeadlineWatch::TimePoint deadline, DeadlineWatch::Entry* entry) {
    std::lock_guard lock(mutex_);
    // The watcher looks again within a tick anyway: only a deadline nearer
    // than that needs it woken, which spares a thread switch per call for
    // the usual deadline, seconds away.
    if (due_.emplace(deadline, entry) == due_.begin() &&
        deadline < std::chrono::system_clock::now() + kTick) {
      changed_.notify_all();
    }
  }

  // After it returns the watcher holds no reference to `entry`. A scan: the
  // watches alive at once are the database connections in use.
  void remove(DeadlineWatch::Entry* entry) {
    {
      std::lock_guard lock(mutex_);
      for (auto it = due_.begin(); it != due_.end(); ++it) {
        if (it->second == entry) {
          due_.erase(it);
          return;  // not due yet: its cancel never starts
        }
      }
    }
    // Already taken by the watcher: wait until its cancel has finished.
    std::lock_guard wait(entry->running);
  }

 private:
  Watcher() {
    std::thread([this] { run(); }).detach();
  }

  void run() {
    std::unique_lock lock(mutex_);
    while (true) {
      // Never asleep for longer than kTick: a wake-up that went missing (seen
      // in a test on this glibc) delays a cancellation by a tick at most.
      const auto now = std::chrono::system_clock::now();
      if (due_.empty() || now < due_.begin()->first) {
        const auto until = due_.empty() ? now + kTick : std::min(due_.begin()->first, now + kTick);
        changed_.wait_until(lock, until);
        continue;
      }
      const auto first = due_.begin();
      DeadlineWatch::Entry* entry = first->second;
      due_.erase(first);
      // Taken before the watcher's lock is let go: the owner's remove() then
      // waits for the cancel rather than free the entry under it.
      std::unique_lock running(entry->running);
      lock.unlock();
      try {
        entry->cancel();
      } catch (const std::exception& error) {
        log::warn("deadline watch: cancelling failed", {{"error", error.what()}});
      }
      entry->fired = true;
      running.unlock();
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  std::multimap<DeadlineWatch::TimePoint, DeadlineWatch::Entry*> due_;
};

}  // namespace

DeadlineWatch::DeadlineWatch(std::optional<TimePoint> deadline, std::function<void()> cancel)
    : entry_(std::make_unique<Entry>()) {
  entry_->cancel = std::move(cancel);
  if (deadline) {
    entry_->watched = true;
    Watcher::instance().add(*deadline, entry_.get());
  }
}

DeadlineWatch::~DeadlineWatch() {
  if (entry_->watched) {
    Watcher::instance().remove(entry_.get());
  }
}

bool DeadlineWatch::fired() const {
  std::lock_guard lock(entry_->running);
  return entry_->fired;
}

}  // namespace calndro
