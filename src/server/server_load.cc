#include "server/server_load.h"

namespace switchyard {

void ServerLoad::Add(const SchedulerSnapshot& snapshot, int64_t running_requests) {
  for (std::size_t depth : snapshot.queue_depth_by_priority) queued += static_cast<int64_t>(depth);
  running += running_requests;
  for (const SchedulerSnapshot::InstanceRow& row : snapshot.instances) {
    if (row.health.state != "ready" || !row.drained.empty()) continue;
    ++ready_instances;
    if (row.inflight_batches > 0) ++busy_instances;
  }
}

double ServerLoad::utilization() const {
  return ready_instances == 0
             ? 0.0
             : static_cast<double>(busy_instances) / static_cast<double>(ready_instances);
}

}  // namespace switchyard
