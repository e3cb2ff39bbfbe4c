#include "common/db/db_pool.h"

#include <algorithm>

namespace calndro {

DbPool::DbPool(std::string url, int size, Prepare prepare, std::chrono::milliseconds acquire_timeout)
    : url_(std::move(url)), size_(size), prepare_(std::move(prepare)), acquire_timeout_(acquire_timeout) {}

DbPool::Lease::~Lease() {
  if (pool != nullptr) {
    // A lease whose connection never opened frees its slot as a broken one.
    const bool lost = broken || connection == nullptr;
    pool->release(std::move(connection), lost);
  }
}

bool DbPool::reachable() {
  try {
    return run([](pqxx::connection& connection) {
      pqxx::nontransaction query(connection);
      query.exec("SELECT 1");
      return true;
    });
  } catch (const std::exception&) {
    return false;
  }
}

int DbPool::in_use() const {
  std::lock_guard lock(mutex_);
  return leased_;
}

int DbPool::waiting() const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(waiters_.size());
}

std::unique_ptr<pqxx::connection> DbPool::open() {
  try {
    auto connection = std::make_unique<pqxx::connection>(url_);
    if (prepare_) {
      prepare_(*connection);
    }
    return connection;
  } catch (const pqxx::broken_connection& error) {
    throw DatabaseUnavailable(std::string("cannot connect to the database: ") + error.what());
  }
}

DbPool::Lease DbPool::acquire() {
  std::unique_ptr<pqxx::connection> connection;
  {
    std::unique_lock lock(mutex_);
    if (leased_ < size_ && waiters_.empty()) {
      ++leased_;
    } else {
      Waiter me;
      waiters_.push_back(&me);
      // On a grant, the releaser has counted the slot as ours already.
      if (!me.handed_over.wait_for(lock, acquire_timeout_, [&me] { return me.granted; })) {
        waiters_.erase(std::find(waiters_.begin(), waiters_.end(), &me));
        throw DatabaseUnavailable("no database connection became free in time");
      }
    }
    if (!idle_.empty()) {
      connection = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  Lease lease;
  lease.pool = this;
  if (connection != nullptr && connection->is_open()) {
    lease.connection = std::move(connection);
    return lease;
  }
  lease.fresh = true;
  lease.connection = open();  // on throw, ~Lease gives the slot back
  return lease;
}

void DbPool::release(std::unique_ptr<pqxx::connection> connection, bool broken) {
  std::lock_guard lock(mutex_);
  if (connection != nullptr && !broken) {
    idle_.push_back(std::move(connection));
  } else if (broken) {
    // One broken connection means the server restarted or the network
    // dropped: the idle ones are almost surely broken too. Dropping them
    // lets the retry in run() get a fresh connection instead of the next
    // dead one.
    idle_.clear();
  }
  if (waiters_.empty()) {
    --leased_;
    return;
  }
  // The slot passes to the longest waiter without becoming free, so no
  // caller arriving meanwhile can take it first.
  Waiter* next = waiters_.front();
  waiters_.pop_front();
  next->granted = true;
  next->handed_over.notify_one();
}

}  // namespace calndro
