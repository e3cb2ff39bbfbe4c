#pragma once

#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "gateway/server/socket_stream.h"

// The workers connections run on (http_server.h); connection_registry.h
// keeps the connections each client address holds.
namespace calndro::gateway {

// The task queue httplib runs connections on: httplib's ThreadPool, plus
// how many accepted connections wait for a worker and since when the one
// being run has waited (so an idle connection can make way).
class WorkerPool final : public httplib::TaskQueue {
 public:
  explicit WorkerPool(size_t threads) {
    for (size_t i = 0; i < threads; ++i) {
      threads_.emplace_back([this] { work(); });
    }
  }
  ~WorkerPool() override = default;

  void enqueue(std::function<void()> fn) override {
    {
      std::lock_guard lock(mutex_);
      jobs_.push_back({std::move(fn), Clock::now()});
      waiting_ = jobs_.size();
    }
    cond_.notify_one();
  }

  void shutdown() override {
    {
      std::lock_guard lock(mutex_);
      shutdown_ = true;
    }
    cond_.notify_all();
    for (auto& thread : threads_) {
      thread.join();
    }
  }

  size_t waiting() const { return waiting_.load(std::memory_order_relaxed); }

  // An idle connection's worker asks to make way: granted while fewer
  // workers are already making way than connections wait, so one waiting
  // connection closes one idle connection, not every one.
  bool claim_yield() {
    size_t yielding = yielding_.load();
    while (yielding < waiting()) {
      if (yielding_.compare_exchange_weak(yielding, yielding + 1)) {
        claimed = true;
        return true;
      }
    }
    return false;
  }
  // When the job being run on this thread was queued (its connection accepted).
  static Clock::time_point job_queued_at() { return queued_at; }

 private:
  struct Job {
    std::function<void()> fn;
    Clock::time_point queued;
  };

  void work() {
    while (true) {
      Job job;
      {
        std::unique_lock lock(mutex_);
        cond_.wait(lock, [this] { return !jobs_.empty() || shutdown_; });
        if (jobs_.empty()) {
          return;
        }
        job = std::move(jobs_.front());
        jobs_.pop_front();
        waiting_ = jobs_.size();
      }
      if (claimed) {
        --yielding_;
        claimed = false;
      }
      queued_at = job.queued;
      job.fn();
    }
  }

  static thread_local Clock::time_point queued_at;
  static thread_local bool claimed;
  std::vector<std::thread> threads_;
  std::deque<Job> jobs_;
  std::atomic<size_t> waiting_{0};
  std::atomic<size_t> yielding_{0};
  bool shutdown_ = false;
  std::mutex mutex_;
  std::condition_variable cond_;
};

}  // namespace calndro::gateway
