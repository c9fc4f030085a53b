#include "devices/placement.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace switchyard {
namespace {

using testing::ElementsAre;
using testing::HasSubstr;
using Groups = std::vector<std::vector<int>>;

constexpr int64_t kReserve = 1024;
constexpr int64_t k80GbBudget = 80 * 1024 - kReserve;  // 80896 MiB

std::vector<Device> Gpus(const std::string& spec) {
  auto devices = ParseSimulatedGpus(spec);
  EXPECT_TRUE(devices.ok()) << devices.status().ToString();
  return devices.ok() ? *devices : std::vector<Device>();
}

PlacementRequest Auto(const std::string& model, int64_t need_mb, int max_per_device = 4) {
  PlacementRequest request{.model = model, .need_mb = need_mb};
  request.instances.max_per_device = max_per_device;
  return request;
}

PlacementRequest Fixed(const std::string& model, int per_device, int64_t need_mb) {
  PlacementRequest request{.model = model, .need_mb = need_mb};
  request.instances.per_device = per_device;
  return request;
}

PlacementRequest OnDevices(PlacementRequest request, std::vector<int> ids) {
  request.instances.all_devices = false;
  request.instances.device_ids = std::move(ids);
  return request;
}

PlacementRequest Spanning(PlacementRequest request, int gpus_per_instance) {
  request.instances.gpus_per_instance = gpus_per_instance;
  return request;
}

PlacementRequest Cpu(const std::string& model, int per_device) {
  PlacementRequest request{.model = model};
  request.instances.all_devices = false;
  request.instances.cpu = true;
  request.instances.per_device = per_device;
  return request;
}

Plan MustPlan(const std::vector<PlacementRequest>& requests, const std::vector<Device>& devices,
              int64_t reserve_mb = kReserve) {
  auto plan = PlanPlacement(requests, devices, reserve_mb);
  EXPECT_TRUE(plan.ok()) << plan.status().ToString();
  if (plan.ok()) return *plan;
  Plan failed;  // sized like a real plan, so that a failing test fails without crashing
  failed.devices.resize(devices.size());
  return failed;
}

Status PlanError(const std::vector<PlacementRequest>& requests, const std::vector<Device>& devices,
                 int64_t reserve_mb = kReserve) {
  auto plan = PlanPlacement(requests, devices, reserve_mb);
  EXPECT_FALSE(plan.ok());
  return plan.status();
}

// The device list of every instance of `model`.
Groups Placed(const Plan& plan, const std::string& model) {
  Groups groups;
  auto it = plan.models.find(model);
  if (it == plan.models.end()) return {{-1}};
  for (const InstancePlacement& placement : it->second) groups.push_back(placement.devices);
  return groups;
}

TEST(PlanPlacementTest, FixedCountOnEveryGpu) {
  Plan plan = MustPlan({Fixed("a", 2, 10000)}, Gpus("2x80GB"));
  EXPECT_EQ(Placed(plan, "a"), (Groups{{0}, {0}, {1}, {1}}));
  ASSERT_EQ(plan.devices.size(), 2u);
  EXPECT_EQ(plan.devices[0].index, 0);
  EXPECT_EQ(plan.devices[0].budget_mb, k80GbBudget);
  EXPECT_EQ(plan.devices[0].planned_mb, 20000);
  EXPECT_THAT(plan.devices[0].instances, ElementsAre("a/0", "a/1"));
  EXPECT_THAT(plan.devices[1].instances, ElementsAre("a/2", "a/3"));
  EXPECT_EQ(plan.cpu_instances, 0);
}

TEST(PlanPlacementTest, AutoPlacesTwoPerGpuWhereTheSecondOverlaps) {
  Plan plan = MustPlan({Auto("a", 10000, 10)}, Gpus("2x80GB"));
  EXPECT_EQ(Placed(plan, "a"), (Groups{{0}, {0}, {1}, {1}}));
  EXPECT_EQ(plan.devices[1].planned_mb, 20000);
  EXPECT_EQ(plan.reasons["a"], "auto: 2 per GPU, the second overlaps copies with compute");
}

TEST(PlanPlacementTest, AutoIsCappedByMaxPerDevice) {
  Plan plan = MustPlan({Auto("a", 10000, 1)}, Gpus("2x80GB"));
  EXPECT_EQ(Placed(plan, "a"), (Groups{{0}, {1}}));
  EXPECT_EQ(plan.reasons["a"], "auto: 1 per GPU, max_per_device");
}

TEST(PlanPlacementTest, AutoStopsWhenMemoryRunsOut) {
  Plan plan = MustPlan({Auto("a", 50000, 10)}, Gpus("80GB,120GB"));
  EXPECT_EQ(Placed(plan, "a"), (Groups{{0}, {1}, {1}}));
  EXPECT_EQ(plan.devices[0].planned_mb, 50000);
  EXPECT_EQ(plan.devices[1].planned_mb, 100000);
  EXPECT_EQ(plan.reasons["a"],
            "auto: 2 per GPU, the second overlaps copies with compute; memory allows 1 on GPU0");
}

TEST(PlanPlacementTest, AutoWithZeroNeedGivesOnePerGpu) {
  Plan plan = MustPlan({Auto("a", 0, 4)}, Gpus("2x80GB"));
  EXPECT_EQ(Placed(plan, "a"), (Groups{{0}, {1}}));
  EXPECT_EQ(plan.reasons["a"], "auto: 1 per GPU, it needs no device memory");
  Plan no_budget = MustPlan({Auto("a", 0, 2)}, Gpus("1GB:used=1000"));  // budget 0
  EXPECT_EQ(no_budget.devices[0].budget_mb, 0);
  EXPECT_EQ(Placed(no_budget, "a"), (Groups{{0}}));
}

TEST(PlanPlacementTest, AutoWithANeedNotYetMeasuredPlansTwo) {
  PlacementRequest unknown = Auto("a", 0);
  unknown.need_source = NeedSource::kUnknown;
  Plan plan = MustPlan({unknown}, Gpus("80GB"));
  EXPECT_EQ(Placed(plan, "a"), (Groups{{0}, {0}}));
}

TEST(PlanPlacementTest, AutoPlacesOneWhereTheDeviceRunsOneBatchAtATime) {
  PlacementRequest serial = Auto("a", 10000);
  serial.overlaps_on_device = false;
  Plan plan = MustPlan({serial}, Gpus("2x80GB"));
  EXPECT_EQ(Placed(plan, "a"), (Groups{{0}, {1}}));
  EXPECT_EQ(plan.reasons["a"], "auto: 1 per GPU, its device runs one batch at a time");
}

TEST(PlanPlacementTest, FixedCountsAreCappedByTheInstanceLimit) {
  EXPECT_THAT(PlanError({Fixed("a", kMaxInstancesPerGroup + 1, 0)}, Gpus("80GB")).message(),
              HasSubstr("model 'a': per_device must be auto or 1..256, got 257"));
}

TEST(PlanPlacementTest, AutoModelsShareRoundByRound) {
  // Greedy filling would give `a` two instances and leave no room for a second `b`.
  Plan plan = MustPlan({Auto("b", 30000), Auto("a", 30000)}, Gpus("100GB"));
  EXPECT_EQ(Placed(plan, "a"), (Groups{{0}, {0}}));
  EXPECT_EQ(Placed(plan, "b"), (Groups{{0}}));
  EXPECT_THAT(plan.devices[0].instances, ElementsAre("a/0", "a/1", "b/0"));
  EXPECT_EQ(plan.devices[0].planned_mb, 90000);
}

TEST(PlanPlacementTest, FixedModelsArePlacedBeforeAutoOnes) {
  Plan plan = MustPlan({Auto("a", 20000), Fixed("b", 3, 20000)}, Gpus("80GB"));
  EXPECT_EQ(Placed(plan, "b"), (Groups{{0}, {0}, {0}}));
  EXPECT_EQ(Placed(plan, "a"), (Groups{{0}}));
}

TEST(PlanPlacementTest, MemoryExhaustionNamesModelNeedAndFreeMemory) {
  Status status = PlanError({Auto("big", 90000), Auto("small", 100)}, Gpus("2x80GB"));
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(),
            "cannot place model 'big': needs 90000 MiB on each of 1 GPU; free: GPU0 80896 MiB, "
            "GPU1 80896 MiB (reserve 1024 MiB each)");
}

TEST(PlanPlacementTest, FixedThatDoesNotFitIsAnErrorWithItsTotalNeed) {
  Status status = PlanError({Fixed("a", 3, 30000)}, Gpus("80GB,40GB"));
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(),
            "cannot place model 'a': needs 3 x 30000 MiB on each of 1 GPU; free: GPU0 80896 MiB, "
            "GPU1 39936 MiB (reserve 1024 MiB each)");
}

TEST(PlanPlacementTest, ErrorShowsMemoryLeftByEarlierModels) {
  Status status = PlanError({Fixed("a", 1, 60000), Auto("b", 30000)}, Gpus("80GB"));
  EXPECT_EQ(status.message(),
            "cannot place model 'b': needs 30000 MiB on each of 1 GPU; free: GPU0 20896 MiB "
            "(reserve 1024 MiB each)");
}

TEST(PlanPlacementTest, ReserveAndMemoryUsedByOthersAreRespected) {
  // Budget: 81920 - 10000 - 2048 = 69872 MiB.
  const std::vector<Device> gpus = Gpus("80GB:used=10000");
  Plan fits = MustPlan({Auto("a", 34936)}, gpus, 2048);
  EXPECT_EQ(fits.devices[0].budget_mb, 69872);
  EXPECT_EQ(fits.models["a"].size(), 2u);
  Plan tighter = MustPlan({Auto("a", 34937)}, gpus, 2048);
  EXPECT_EQ(tighter.models["a"].size(), 1u);
  EXPECT_THAT(PlanError({Auto("a", 69873)}, gpus, 2048).message(),
              HasSubstr("free: GPU0 69872 MiB (reserve 2048 MiB each)"));
}

TEST(PlanPlacementTest, BudgetNeverGoesBelowZero) {
  EXPECT_THAT(PlanError({Auto("a", 1)}, Gpus("1GB:used=1000")).message(),
              HasSubstr("free: GPU0 0 MiB (reserve 1024 MiB each)"));
  EXPECT_THAT(PlanError({Auto("a", 1)}, Gpus("1GB"), 4096).message(),
              HasSubstr("free: GPU0 0 MiB (reserve 4096 MiB each)"));
}

TEST(PlanPlacementTest, DeviceListUsesOnlyThoseGpusInIndexOrder) {
  Plan plan = MustPlan({OnDevices(Fixed("a", 1, 1000), {2, 1})}, Gpus("4x80GB"));
  EXPECT_EQ(Placed(plan, "a"), (Groups{{1}, {2}}));
  EXPECT_TRUE(plan.devices[0].instances.empty());
  EXPECT_TRUE(plan.devices[3].instances.empty());
  EXPECT_EQ(plan.devices[3].planned_mb, 0);
  Status status = PlanError({OnDevices(Auto("a", 90000), {1, 3})}, Gpus("4x80GB"));
  EXPECT_THAT(status.message(),
              HasSubstr("needs 90000 MiB on each of 1 GPU (eligible: GPU1, GPU3); free: GPU0"));
}

TEST(PlanPlacementTest, DeviceThatDoesNotExistIsAnError) {
  Status status = PlanError({OnDevices(Auto("m", 1), {1, 4})}, Gpus("4x80GB"));
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "model 'm': device 4 does not exist; available: 0-3");
  EXPECT_EQ(PlanError({OnDevices(Auto("m", 1), {1})}, Gpus("80GB")).message(),
            "model 'm': device 1 does not exist; available: 0");
  EXPECT_EQ(PlanError({OnDevices(Auto("m", 1), {0})}, {}).message(),
            "model 'm': device 0 does not exist; available: none (no GPUs)");
}

TEST(PlanPlacementTest, GpusPerInstanceTwoOverFourGpus) {
  Plan plan = MustPlan({Spanning(Fixed("m", 1, 50000), 2)}, Gpus("4x80GB"));
  EXPECT_EQ(Placed(plan, "m"), (Groups{{0, 1}, {2, 3}}));
  EXPECT_THAT(plan.devices[0].instances, ElementsAre("m/0"));
  EXPECT_THAT(plan.devices[1].instances, ElementsAre("m/0"));
  EXPECT_THAT(plan.devices[3].instances, ElementsAre("m/1"));
  for (const DevicePlan& device : plan.devices) EXPECT_EQ(device.planned_mb, 50000);
  EXPECT_THAT(FormatPlan(plan, Gpus("4x80GB")),
              HasSubstr("\nm              2     50000  GPU0+GPU1, GPU2+GPU3  per_device: 1\n"));
}

TEST(PlanPlacementTest, GpusPerInstanceTwoOverFiveGpusLeavesTheLastUnused) {
  Plan plan = MustPlan({Spanning(Auto("m", 30000), 2)}, Gpus("5x80GB"));
  EXPECT_EQ(Placed(plan, "m"), (Groups{{0, 1}, {0, 1}, {2, 3}, {2, 3}}));
  EXPECT_EQ(plan.devices[4].planned_mb, 0);
  EXPECT_TRUE(plan.devices[4].instances.empty());
  EXPECT_EQ(plan.devices[3].planned_mb, 60000);
}

TEST(PlanPlacementTest, GpusPerInstanceNeedsEveryGpuOfItsGroupToFit) {
  // GPU1 is small, so the group {0, 1} cannot hold the instance; {2, 3} can.
  Plan plan = MustPlan({Spanning(Auto("m", 30000, 1), 2)}, Gpus("80GB,16GB,80GB,80GB"));
  EXPECT_EQ(Placed(plan, "m"), (Groups{{2, 3}}));
  Status status = PlanError({Spanning(Auto("m", 30000), 2)}, Gpus("80GB,16GB"));
  EXPECT_THAT(status.message(), HasSubstr("needs 30000 MiB on each of 2 GPUs; free: GPU0 80896 "
                                          "MiB, GPU1 15360 MiB"));
}

TEST(PlanPlacementTest, GpusPerInstanceAboveEligibleCountIsAnError) {
  Status status = PlanError({Spanning(Auto("m", 1), 3)}, Gpus("2x80GB"));
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "model 'm': gpus_per_instance is 3 but only 2 GPUs are eligible (0, 1)");
  EXPECT_THAT(PlanError({OnDevices(Spanning(Auto("m", 1), 2), {3})}, Gpus("4x80GB")).message(),
              HasSubstr("only 1 GPU is eligible (3)"));
}

TEST(PlanPlacementTest, NoGpusFallsBackToCpu) {
  Plan plan = MustPlan({Auto("a", 50000), Fixed("b", 3, 50000), Spanning(Auto("c", 1), 2)}, {});
  EXPECT_EQ(Placed(plan, "a"), (Groups{{}}));
  EXPECT_EQ(Placed(plan, "b"), (Groups{{}, {}, {}}));
  EXPECT_EQ(Placed(plan, "c"), (Groups{{}}));
  EXPECT_EQ(plan.cpu_instances, 5);
  EXPECT_TRUE(plan.devices.empty());
}

TEST(PlanPlacementTest, CpuModelsTakeNoGpuMemory) {
  Plan plan = MustPlan({Cpu("pre", 0), Cpu("post", 3), Fixed("gpu", 1, 1000)}, Gpus("80GB"));
  EXPECT_EQ(Placed(plan, "pre"), (Groups{{}}));
  EXPECT_EQ(Placed(plan, "post"), (Groups{{}, {}, {}}));
  EXPECT_EQ(plan.cpu_instances, 4);
  EXPECT_EQ(plan.devices[0].planned_mb, 1000);
  EXPECT_THAT(plan.devices[0].instances, ElementsAre("gpu/0"));
}

TEST(PlanPlacementTest, ModelsShareDevices) {
  Plan plan = MustPlan({OnDevices(Fixed("a", 1, 40000), {0, 1}),
                        OnDevices(Fixed("b", 1, 40000), {1, 2}), Auto("c", 10000, 1)},
                       Gpus("3x80GB"));
  EXPECT_THAT(plan.devices[1].instances, ElementsAre("a/1", "b/0"));
  EXPECT_EQ(plan.devices[1].planned_mb, 80000);
  // `c` fits on GPU0 and GPU2 but not on GPU1, which a and b filled.
  EXPECT_EQ(Placed(plan, "c"), (Groups{{0}, {2}}));
}

TEST(PlanPlacementTest, SameInputGivesSamePlanWhateverTheOrder) {
  const std::vector<Device> gpus = Gpus("80GB,80GB,40GB:speed=0.5,24GB");
  std::vector<PlacementRequest> requests = {
      Auto("resnet", 9000), OnDevices(Fixed("bert", 2, 12000), {0, 1}),
      Spanning(Auto("llm", 30000, 1), 2), OnDevices(Auto("tiny", 500, 8), {3, 2}),
      Cpu("tokenizer", 2)};
  Plan first = MustPlan(requests, gpus);
  std::reverse(requests.begin(), requests.end());
  Plan reversed = MustPlan(requests, gpus);
  for (const Plan* plan : {&first, &reversed}) {
    Plan again = MustPlan(requests, gpus);
    ASSERT_EQ(plan->models.size(), 5u);
    ASSERT_EQ(plan->devices.size(), gpus.size());
    ASSERT_EQ(again.devices.size(), gpus.size());
    for (const auto& [model, placements] : again.models) {
      EXPECT_EQ(Placed(*plan, model), Placed(again, model)) << model;
    }
    for (size_t d = 0; d < gpus.size(); ++d) {
      EXPECT_EQ(plan->devices[d].instances, again.devices[d].instances);
      EXPECT_EQ(plan->devices[d].planned_mb, again.devices[d].planned_mb);
    }
    EXPECT_EQ(FormatPlan(*plan, gpus), FormatPlan(again, gpus));
  }
}

TEST(PlanPlacementTest, FourSimulatedGpus) {
  Plan plan = MustPlan({Auto("resnet", 9000), Fixed("bert", 2, 12000)}, Gpus("4x80GB"));
  // Per GPU: bert 2 x 12000, then resnet 2 x 9000 (auto's target) = 42000 <= 80896.
  EXPECT_EQ(plan.models["bert"].size(), 8u);
  EXPECT_EQ(plan.models["resnet"].size(), 8u);
  for (const DevicePlan& device : plan.devices) {
    EXPECT_EQ(device.planned_mb, 42000);
    EXPECT_EQ(device.instances.size(), 4u);
  }
  EXPECT_THAT(plan.devices[2].instances, ElementsAre("bert/4", "bert/5", "resnet/4", "resnet/5"));
}

TEST(PlanPlacementTest, EightSimulatedGpusMixedModels) {
  const std::vector<Device> gpus = Gpus("8x80GB");
  Plan plan = MustPlan({Spanning(Fixed("llm", 1, 60000), 4), Auto("resnet", 5000, 2),
                        OnDevices(Auto("ocr", 10000, 3), {6, 7})},
                       gpus);
  EXPECT_EQ(Placed(plan, "llm"), (Groups{{0, 1, 2, 3}, {4, 5, 6, 7}}));
  // 20896 MiB left per GPU. Round 0: ocr on GPU6 and GPU7, resnet everywhere; round 1: ocr no
  // longer fits on GPU6/7 (5896 left), resnet does; then resnet is at its cap of 2.
  EXPECT_EQ(Placed(plan, "ocr"), (Groups{{6}, {7}}));
  EXPECT_EQ(plan.models["resnet"].size(), 16u);
  EXPECT_EQ(plan.devices[0].planned_mb, 70000);
  EXPECT_EQ(plan.devices[7].planned_mb, 80000);
  EXPECT_THAT(plan.devices[7].instances, ElementsAre("llm/1", "ocr/1", "resnet/14", "resnet/15"));
  EXPECT_EQ(
      PlanError({Spanning(Fixed("llm", 1, 70000), 4), OnDevices(Auto("ocr", 20000), {6, 7})}, gpus)
          .message(),
      "cannot place model 'ocr': needs 20000 MiB on each of 1 GPU (eligible: GPU6, GPU7); "
      "free: GPU0 10896 MiB, GPU1 10896 MiB, GPU2 10896 MiB, GPU3 10896 MiB, GPU4 10896 "
      "MiB, GPU5 10896 MiB, GPU6 10896 MiB, GPU7 10896 MiB (reserve 1024 MiB each)");
}

TEST(PlanPlacementTest, RejectsBadInputs) {
  EXPECT_THAT(PlanError({Auto("a", 1), Auto("a", 2)}, Gpus("80GB")).message(),
              HasSubstr("model 'a': model listed twice"));
  EXPECT_THAT(PlanError({Auto("a", -1)}, Gpus("80GB")).message(), HasSubstr("need must be >= 0"));
  EXPECT_THAT(PlanError({Auto("a", 1)}, Gpus("80GB"), -1).message(), HasSubstr("reserve"));
  std::vector<Device> misnumbered = Gpus("2x80GB");
  misnumbered[1].index = 5;
  EXPECT_THAT(PlanError({Auto("a", 1)}, misnumbered).message(),
              HasSubstr("device at position 1 has index 5"));
}

TEST(FormatPlanTest, ShowsDevicesCpuAndModels) {
  const std::vector<Device> gpus = Gpus("2x80GB,16GB:used=4096");
  Plan plan = MustPlan(
      {OnDevices(Fixed("big", 1, 60000), {0, 1}), Auto("small", 4000, 2), Cpu("pre", 2)}, gpus);
  EXPECT_EQ(
      FormatPlan(plan, gpus),
      "placement: 10 instances of 3 models: 8 on 3 GPUs, 2 on CPU\n"
      "\n"
      "GPU  name                    total MiB  others MiB  budget MiB  planned MiB  free MiB  "
      "instances\n"
      "  0  simulated GPU (80 GiB)      81920           0       80896        68000     12896  "
      "big/0, small/0, small/1\n"
      "  1  simulated GPU (80 GiB)      81920           0       80896        68000     12896  "
      "big/1, small/2, small/3\n"
      "  2  simulated GPU (16 GiB)      16384        4096       11264         8000      3264  "
      "small/4, small/5\n"
      "CPU                                                                                    "
      "pre/0, pre/1\n"
      "\n"
      "model  instances  need MiB  on                         why\n"
      "big            2     60000  GPU0, GPU1                 per_device: 1\n"
      "pre            2         -  CPU x2                     devices: cpu, per_device: 2\n"
      "small          6      4000  GPU0 x2, GPU1 x2, GPU2 x2  auto: 2 per GPU, the second "
      "overlaps copies with compute\n");
}

TEST(FormatPlanTest, WithoutGpusShowsOnlyModels) {
  Plan plan = MustPlan({Auto("a", 100), Cpu("b", 2)}, {});
  EXPECT_EQ(FormatPlan(plan, {}),
            "placement: 3 instances of 2 models, all on CPU (no GPUs)\n"
            "\n"
            "model  instances  need MiB  on      why\n"
            "a              1         -  CPU     no GPUs: on CPU, auto: 1\n"
            "b              2         -  CPU x2  devices: cpu, per_device: 2\n");
}

TEST(FormatPlanTest, ShowsWhereEachNeedCameFrom) {
  const std::vector<Device> gpus = Gpus("80GB");
  PlacementRequest measured = Fixed("measured", 1, 1800);
  measured.need_source = NeedSource::kMeasured;
  PlacementRequest estimated = Fixed("estimated", 1, 900);
  estimated.need_source = NeedSource::kEstimated;
  PlacementRequest unknown = Fixed("unknown", 1, 0);
  unknown.need_source = NeedSource::kUnknown;
  Plan plan = MustPlan({measured, estimated, unknown, Fixed("declared", 1, 700)}, gpus);
  EXPECT_THAT(FormatPlan(plan, gpus),
              HasSubstr("model      instances          need MiB  on    why\n"
                        "declared           1               700  GPU0  per_device: 1\n"
                        "estimated          1     900 estimated  GPU0  per_device: 1\n"
                        "measured           1     1800 measured  GPU0  per_device: 1\n"
                        "unknown            1  measured at load  GPU0  per_device: 1\n"));
}

TEST(PlanPlacementTest, NoRoomNamesAMeasuredNeed) {
  PlacementRequest big = Auto("big", 90000);
  big.need_source = NeedSource::kMeasured;
  EXPECT_EQ(PlanError({big}, Gpus("80GB")).message(),
            "cannot place model 'big': needs 90000 MiB (measured) on each of 1 GPU; free: GPU0 "
            "80896 MiB (reserve 1024 MiB each)");
}

TEST(DeviceGroupsTest, AsPlacementFormsThem) {
  PlacementRequest pairs = Auto("p", 1);
  pairs.instances.gpus_per_instance = 2;
  EXPECT_EQ(*DeviceGroups(pairs, 5), (Groups{{0, 1}, {2, 3}}));
  EXPECT_EQ(*DeviceGroups(OnDevices(Auto("l", 1), {3, 1}), 4), (Groups{{1}, {3}}));
  EXPECT_EQ(*DeviceGroups(Auto("none", 1), 0), Groups{});  // no GPUs: on CPU
  EXPECT_EQ(*DeviceGroups(Cpu("c", 1), 4), Groups{});
  EXPECT_FALSE(DeviceGroups(OnDevices(Auto("x", 1), {7}), 4).ok());
}

}  // namespace
}  // namespace switchyard
