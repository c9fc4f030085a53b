#include "scheduler/instance_picker.h"

#include <gtest/gtest.h>

#include <map>

namespace switchyard {
namespace {

using std::chrono::milliseconds;

InstanceLoad Load(bool free, int64_t outstanding, Duration busy = Duration(0),
                  const ServiceTimeEstimate* service = nullptr, int64_t pending = 1) {
  return {.free = free,
          .pending_items = pending,
          .outstanding_items = outstanding,
          .busy_remaining = busy,
          .service = service};
}

TEST(InstancePickerTest, NoneFree) {
  for (auto policy : {RoutingPolicy::kFastest, RoutingPolicy::kLeastOutstanding,
                      RoutingPolicy::kPowerOfTwo, RoutingPolicy::kRoundRobin}) {
    auto picker = MakeInstancePicker(policy, 1);
    std::vector<InstanceLoad> loads = {Load(false, 0), Load(false, 0)};
    EXPECT_EQ(picker->Pick(loads, 4), -1) << RoutingPolicyName(policy);
  }
}

TEST(InstancePickerTest, FastestUsesMeasuredServiceTime) {
  ServiceTimeEstimate fast, slow;
  fast.Record(8, milliseconds(10));
  slow.Record(8, milliseconds(20));
  auto picker = MakeInstancePicker(RoutingPolicy::kFastest, 1);
  std::vector<InstanceLoad> loads = {Load(true, 0, Duration(0), &slow),
                                     Load(true, 0, Duration(0), &fast)};
  EXPECT_EQ(picker->Pick(loads, 8), 1);
  // The fast one has 15 ms of work left: 25 ms against 20 ms, the slow one wins.
  loads[1].busy_remaining = milliseconds(15);
  EXPECT_EQ(picker->Pick(loads, 8), 0);
}

TEST(InstancePickerTest, FastestSpreadsTiesAcrossUnmeasuredInstances) {
  auto picker = MakeInstancePicker(RoutingPolicy::kFastest, 1);
  std::vector<InstanceLoad> loads = {Load(true, 0), Load(true, 0), Load(true, 0)};
  std::map<int, int> picks;
  for (int i = 0; i < 3; ++i) ++picks[picker->Pick(loads, 1)];
  EXPECT_EQ(picks.size(), 3u);
}

TEST(InstancePickerTest, LeastOutstanding) {
  auto picker = MakeInstancePicker(RoutingPolicy::kLeastOutstanding, 1);
  std::vector<InstanceLoad> loads = {Load(true, 5), Load(false, 0), Load(true, 2)};
  EXPECT_EQ(picker->Pick(loads, 1), 2);
}

TEST(InstancePickerTest, PowerOfTwoPrefersLessLoadedAndIsSeeded) {
  std::vector<InstanceLoad> loads = {Load(true, 100), Load(true, 0), Load(true, 100),
                                     Load(true, 100)};
  auto a = MakeInstancePicker(RoutingPolicy::kPowerOfTwo, 7);
  auto b = MakeInstancePicker(RoutingPolicy::kPowerOfTwo, 7);
  int picked_idle = 0;
  for (int i = 0; i < 200; ++i) {
    int x = a->Pick(loads, 1);
    EXPECT_EQ(x, b->Pick(loads, 1));  // same seed, same choices
    if (x == 1) ++picked_idle;
  }
  // Instance 1 wins whenever it is one of the two sampled: about half the time, far above 1/4.
  EXPECT_GT(picked_idle, 70);
}

TEST(InstancePickerTest, RoundRobinBindsInTurnAndServesMostPendingFirst) {
  auto picker = MakeInstancePicker(RoutingPolicy::kRoundRobin, 1);
  EXPECT_EQ(picker->BindOnArrival(3), 0);
  EXPECT_EQ(picker->BindOnArrival(3), 1);
  EXPECT_EQ(picker->BindOnArrival(3), 2);
  EXPECT_EQ(picker->BindOnArrival(3), 0);
  std::vector<InstanceLoad> loads = {Load(true, 0, Duration(0), nullptr, 1),
                                     Load(true, 0, Duration(0), nullptr, 3)};
  EXPECT_EQ(picker->Pick(loads, 1), 1);
  for (auto policy :
       {RoutingPolicy::kFastest, RoutingPolicy::kLeastOutstanding, RoutingPolicy::kPowerOfTwo}) {
    EXPECT_EQ(MakeInstancePicker(policy, 1)->BindOnArrival(3), -1);
  }
}

}  // namespace
}  // namespace switchyard
