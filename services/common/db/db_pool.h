#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <stdexcept>
#include <string>
#include <vector>

namespace calndro {

// The database could not be reached, or no connection freed up in time.
// Services answer UNAVAILABLE (the gateway: 503) and change nothing.
class DatabaseUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A fixed-size pool of libpqxx connections (a connection is not
// thread-safe: one request holds one at a time). Connections open lazily,
// get the service's prepared statements on opening, and are replaced after
// the database restarts. Callers that find every connection leased wait in
// arrival order, and a released connection goes to the longest waiter, so a
// newcomer never takes a freed connection ahead of a woken waiter (which
// would leave the odd request waiting 100-200 ms under load,
// docs/PERFORMANCE.md).
class DbPool {
 public:
  using Prepare = std::function<void(pqxx::connection&)>;

  DbPool(std::string url, int size, Prepare prepare, std::chrono::milliseconds acquire_timeout);
  DbPool(const DbPool&) = delete;
  DbPool& operator=(const DbPool&) = delete;

  // Runs `work` with a connection. A connection that broke while idle (the
  // server restarted) is replaced and `work` tried once more: a
  // broken_connection means nothing was committed. Throws
  // DatabaseUnavailable when no working connection can be had.
  template <typename Work>
  auto run(Work&& work) -> decltype(work(std::declval<pqxx::connection&>())) {
    for (int attempt = 0;; ++attempt) {
      Lease lease = acquire();
      try {
        return work(*lease.connection);
      } catch (const pqxx::broken_connection& broken) {
        lease.broken = true;
        if (attempt >= 1 || lease.fresh) {
          throw DatabaseUnavailable(std::string("database connection lost: ") + broken.what());
        }
      }
    }
  }

  int size() const { return size_; }
  int in_use() const;
  // Callers waiting for a connection.
  int waiting() const;
  // True when a trivial query succeeds (the health services' readiness).
  bool reachable();

 private:
  struct Lease {
    DbPool* pool = nullptr;
    std::unique_ptr<pqxx::connection> connection;
    bool fresh = false;
    bool broken = false;
    Lease() = default;
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = default;
    ~Lease();
  };

  Lease acquire();
  void release(std::unique_ptr<pqxx::connection> connection, bool broken);
  std::unique_ptr<pqxx::connection> open();

  const std::string url_;
  const int size_;
  const Prepare prepare_;
  const std::chrono::milliseconds acquire_timeout_;
  // One per waiting caller; release() hands its slot to the front one.
  struct Waiter {
    std::condition_variable handed_over;
    bool granted = false;
  };

  mutable std::mutex mutex_;
  std::deque<Waiter*> waiters_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  int leased_ = 0;
};

}  // namespace calndro
