#include "gateway/server/worker_pool.h"

namespace calndro::gateway {

thread_local Clock::time_point WorkerPool::queued_at;
thread_local bool WorkerPool::claimed = false;

}  // namespace calndro::gateway
