#include "events/event_streams.h"

#include "events/event_watch.h"

namespace calndro::events {

EventStreams::EventStreams(StreamOptions options, StreamCensus* census) : options_(options), census_(census) {
  for (std::size_t i = 0; i < std::max<std::size_t>(options_.workers, 1); ++i) {
    workers_.emplace_back([this](const std::stop_token& stop) { work(stop); });
  }
  ticker_ = std::jthread([this](const std::stop_token& stop) { tick(stop); });
}

EventStreams::~EventStreams() {
  ticker_ = {};
  for (auto& worker : workers_) {
    worker.request_stop();
  }
  jobs_ready_.notify_all();
  workers_.clear();
}

void EventStreams::post(std::function<void()> job) {
  {
    std::lock_guard lock(jobs_mutex_);
    jobs_.push_back(std::move(job));
  }
  jobs_ready_.notify_one();
}

void EventStreams::work(const std::stop_token& stop) {
  while (true) {
    std::function<void()> job;
    {
      std::unique_lock lock(jobs_mutex_);
      if (!jobs_ready_.wait(lock, stop, [this] { return !jobs_.empty(); })) {
        return;
      }
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

void EventStreams::tick(const std::stop_token& stop) {
  auto census_due = std::chrono::steady_clock::now() + kCensusInterval;
  while (!stop.stop_requested()) {
    {
      std::mutex pause;
      std::unique_lock lock(pause);
      std::condition_variable_any().wait_for(lock, stop, std::chrono::seconds(1), [] { return false; });
    }
    const auto now = std::chrono::steady_clock::now();
    for (const auto& watch : followers(0)) {
      watch->tick(now);
    }
    if (census_ != nullptr && now >= census_due) {
      census_due = now + kCensusInterval;
      post([this] { publish_census(); });
    }
  }
}

void EventStreams::publish_census() {
  std::unique_lock census_lock(census_mutex_);
  std::map<std::string, std::size_t> open;
  {
    std::lock_guard lock(follow_mutex_);
    open = per_caller_;
  }
  // Nothing open now nor at the last refresh: nothing to tell.
  if (open.empty() && census_published_empty_) {
    return;
  }
  census_->publish(open);
  census_published_empty_ = open.empty();
}

bool EventStreams::admit(const std::string& caller_key) {
  std::shared_lock census_lock(census_mutex_, std::defer_lock);
  if (census_ != nullptr) {
    census_lock.lock();
  }
  std::size_t open_before = 0;
  {
    std::lock_guard lock(follow_mutex_);
    std::size_t& open = per_caller_[caller_key];
    if (open >= options_.per_caller) {
      if (open == 0) {
        per_caller_.erase(caller_key);
      }
      return false;
    }
    open_before = open++;  // held while the census is asked
  }
  if (census_ != nullptr && !census_->admit(caller_key, open_before, options_.per_caller)) {
    leave(caller_key);
    return false;
  }
  if (census_ != nullptr) {
    census_published_empty_ = false;
  }
  return true;
}

void EventStreams::leave(const std::string& caller_key) {
  std::lock_guard lock(follow_mutex_);
  const auto found = per_caller_.find(caller_key);
  if (found != per_caller_.end() && --found->second == 0) {
    per_caller_.erase(found);
  }
}

void EventStreams::follow(std::int64_t id, const std::shared_ptr<EventWatch>& watch) {
  std::lock_guard lock(follow_mutex_);
  following_.emplace(id, watch);
}

void EventStreams::unfollow(std::int64_t id, const EventWatch* watch) {
  std::lock_guard lock(follow_mutex_);
  auto [first, last] = following_.equal_range(id);
  while (first != last) {
    const auto followed = first->second.lock();
    if (!followed || followed.get() == watch) {
      first = following_.erase(first);
    } else {
      ++first;
    }
  }
}

std::vector<std::shared_ptr<EventWatch>> EventStreams::followers(std::int64_t id) const {
  std::vector<std::shared_ptr<EventWatch>> alive;
  std::lock_guard lock(follow_mutex_);
  const auto collect = [&alive](const auto& entry) {
    if (auto watch = entry.second.lock()) {
      alive.push_back(std::move(watch));
    }
  };
  if (id == 0) {
    std::for_each(following_.begin(), following_.end(), collect);
  } else {
    auto [first, last] = following_.equal_range(id);
    std::for_each(first, last, collect);
  }
  return alive;
}

void EventStreams::changed(std::int64_t id, std::int64_t version) {
  // Outside follow_mutex_: a watch takes its own lock, then ours (follow()).
  for (const auto& watch : followers(id)) {
    watch->changed(version);
  }
}

void EventStreams::resync() {
  for (const auto& watch : followers(0)) {
    watch->look_again();
  }
}

void EventStreams::end_all(const grpc::Status& status) {
  for (const auto& watch : followers(0)) {
    watch->end(status);
  }
}

std::size_t EventStreams::open_streams() const {
  std::lock_guard lock(follow_mutex_);
  std::size_t open = 0;
  for (const auto& [caller, streams] : per_caller_) {
    open += streams;
  }
  return open;
}

}  // namespace calndro::events
