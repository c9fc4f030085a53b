#include "server/server_load.h"

#include <gtest/gtest.h>

namespace switchyard {
namespace {

SchedulerSnapshot::InstanceRow Instance(int inflight, std::string state = "ready",
                                        std::string drained = "") {
  SchedulerSnapshot::InstanceRow row;
  row.inflight_batches = inflight;
  row.health.state = std::move(state);
  row.drained = std::move(drained);
  return row;
}

TEST(ServerLoadTest, SumsModelsAndCountsBusyReadyInstances) {
  ServerLoad load;
  EXPECT_EQ(load.utilization(), 0.0);  // no instance at all
  SchedulerSnapshot a;
  a.queue_depth_by_priority = {3, 1};
  a.instances = {Instance(2), Instance(0), Instance(1, "restarting")};
  load.Add(a, 5);
  SchedulerSnapshot b;
  b.queue_depth_by_priority = {4};
  b.instances = {Instance(1), Instance(0, "ready", "its GPU failed")};
  load.Add(b, 1);
  EXPECT_EQ(load.queued, 8);
  EXPECT_EQ(load.running, 6);
  EXPECT_EQ(load.ready_instances, 3);  // neither the restarting nor the drained one
  EXPECT_EQ(load.busy_instances, 2);
  EXPECT_DOUBLE_EQ(load.utilization(), 2.0 / 3.0);
}

}  // namespace
}  // namespace switchyard
