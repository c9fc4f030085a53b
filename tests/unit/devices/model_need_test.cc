#include "devices/model_need.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace switchyard {
namespace {

using testing::HasSubstr;

ModelConfig Model(const std::string& name, const std::string& backend) {
  ModelConfig config;
  config.name = name;
  config.backend = backend;
  return config;
}

RepositoryModel InRepository(ModelConfig config) {
  return RepositoryModel{.config = std::move(config), .path = "/models", .versions = {1}};
}

TEST(InstanceNeedMbTest, DeclaredVramWins) {
  ModelConfig config = Model("m", "sim");
  config.instances.vram_mb = 3000;
  config.parameters["memory_mb"] = "5000";
  auto need = InstanceNeedMb(config);
  ASSERT_TRUE(need.ok()) << need.status().ToString();
  EXPECT_EQ(*need, 3000);
}

TEST(InstanceNeedMbTest, SimUsesMemoryMbParameter) {
  ModelConfig config = Model("m", "sim");
  EXPECT_EQ(*InstanceNeedMb(config), 0);
  config.parameters["memory_mb"] = "5000";
  EXPECT_EQ(*InstanceNeedMb(config), 5000);
  config.parameters["memory_mb"] = "0";
  EXPECT_EQ(*InstanceNeedMb(config), 0);
}

TEST(InstanceNeedMbTest, SimEstimatesAWarmupAtMaxBatch) {
  ModelConfig config = Model("m", "sim");
  config.parameters["memory_mb"] = "1000";
  config.parameters["memory_mb_per_item"] = "100";
  EXPECT_EQ(*InstanceNeedMb(config), 1100);  // no batch dimension: one item
  config.max_batch_size = 8;
  EXPECT_EQ(*InstanceNeedMb(config), 1800);
  config.parameters["memory_mb_per_item"] = "x";
  EXPECT_THAT(InstanceNeedMb(config).status().message(),
              HasSubstr("parameters.memory_mb_per_item: expected an integer >= 0"));
}

TEST(InstanceNeedMbTest, SourcesAndWhatIsMeasuredAtLoad) {
  ModelConfig sim = Model("m", "sim");
  ModelConfig torch = Model("t", "torch");
  EXPECT_EQ(InstanceNeedSource(sim), NeedSource::kEstimated);
  EXPECT_EQ(InstanceNeedSource(torch), NeedSource::kUnknown);
  EXPECT_TRUE(MeasuredAtLoad(sim));
  EXPECT_TRUE(MeasuredAtLoad(torch));
  torch.instances.isolation = Isolation::kThread;  // in process: nothing measures it
  EXPECT_FALSE(MeasuredAtLoad(torch));
  sim.instances.vram_mb = 10;
  EXPECT_EQ(InstanceNeedSource(sim), NeedSource::kDeclared);
  EXPECT_FALSE(MeasuredAtLoad(sim));
  auto request = PlacementRequestFor(sim);
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->need_mb, 10);
  EXPECT_EQ(request->need_source, NeedSource::kDeclared);
}

TEST(PlacementRequestForTest, OnlyASimModelsSecondInstanceAddsNothingOnItsDevice) {
  auto sim = PlacementRequestFor(Model("m", "sim"));
  auto torch = PlacementRequestFor(Model("t", "torch"));
  ASSERT_TRUE(sim.ok() && torch.ok());
  EXPECT_FALSE(sim->overlaps_on_device);
  EXPECT_TRUE(torch->overlaps_on_device);
}

TEST(InstanceNeedMbTest, SimRejectsBadMemoryMb) {
  ModelConfig config = Model("m", "sim");
  for (const char* bad : {"-1", "1.5", "lots", "", "12MB", "99999999999999999999"}) {
    config.parameters["memory_mb"] = bad;
    auto need = InstanceNeedMb(config);
    ASSERT_FALSE(need.ok()) << bad;
    EXPECT_EQ(need.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(need.status().message(),
                HasSubstr("model 'm': parameters.memory_mb: expected an integer >= 0 (MiB), got '" +
                          std::string(bad) + "'"));
  }
}

TEST(InstanceNeedMbTest, OtherBackendsMeasureAsZeroForNow) {
  ModelConfig config = Model("m", "torch");
  config.parameters["memory_mb"] = "5000";  // a sim key means nothing to torch
  EXPECT_EQ(*InstanceNeedMb(config), 0);
}

TEST(PlanRepositoryTest, PlansWithEachModelsNeed) {
  ModelConfig big = Model("big", "sim");
  big.parameters["memory_mb"] = "50000";
  ModelConfig declared = Model("declared", "torch");
  declared.instances.vram_mb = 20000;
  declared.instances.max_per_device = 8;
  auto devices = ParseSimulatedGpus("2x80GB");
  ASSERT_TRUE(devices.ok());
  auto plan = PlanRepository({InRepository(big), InRepository(declared)}, *devices, 1024);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  // Round 0: big (50000) then declared (20000) on each GPU; 10896 MiB left, nothing more fits.
  EXPECT_EQ(plan->models["big"].size(), 2u);
  EXPECT_EQ(plan->models["declared"].size(), 2u);
  EXPECT_EQ(plan->devices[0].planned_mb, 70000);
}

TEST(PlanRepositoryTest, PassesErrorsThrough) {
  ModelConfig bad = Model("bad", "sim");
  bad.parameters["memory_mb"] = "x";
  auto devices = ParseSimulatedGpus("80GB");
  ASSERT_TRUE(devices.ok());
  EXPECT_THAT(PlanRepository({InRepository(bad)}, *devices, 1024).status().message(),
              HasSubstr("model 'bad': parameters.memory_mb"));
  ModelConfig huge = Model("huge", "sim");
  huge.instances.vram_mb = 100000;
  EXPECT_THAT(PlanRepository({InRepository(huge)}, *devices, 1024).status().message(),
              HasSubstr("cannot place model 'huge': needs 100000 MiB"));
}

}  // namespace
}  // namespace switchyard
