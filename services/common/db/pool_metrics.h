#pragma once

#include "common/db/db_pool.h"
#include "common/metrics/metrics.h"

namespace calndro {

// The pool's size and its connections lent out right now, read at each scrape.
void register_pool_metrics(Metrics& metrics, const DbPool& pool);

}  // namespace calndro
