#include "common/db/pool_metrics.h"

namespace calndro {

void register_pool_metrics(Metrics& metrics, const DbPool& pool) {
  auto& in_use =
      metrics.gauge("calndro_db_pool_connections_in_use", "Database connections lent out right now");
  metrics.gauge("calndro_db_pool_size", "Configured database pool size").Set(pool.size());
  metrics.on_scrape([&in_use, &pool] { in_use.Set(pool.in_use()); });
}

}  // namespace calndro
