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

// The plugins the build made (build/backends): the sim plugin exports SyModelPlacementHints, the
// exec plugin does not.
const plugin::PlacementHintReader& Plugins() {
  static const plugin::PlacementHintReader reader(SWITCHYARD_BACKENDS);
  return reader;
}

// The need PlacementRequestFor gives `config`, and where it comes from.
StatusOr<int64_t> InstanceNeedMb(const ModelConfig& config,
                                 const plugin::PlacementHintReader& hints) {
  ASSIGN_OR_RETURN(PlacementRequest request, PlacementRequestFor(config, hints));
  return request.need_mb;
}
NeedSource InstanceNeedSource(const ModelConfig& config, const plugin::PlacementHintReader& hints) {
  auto request = PlacementRequestFor(config, hints);
  return request.ok() ? request->need_source : NeedSource::kUnknown;
}

TEST(InstanceNeedMbTest, DeclaredVramWins) {
  ModelConfig config = Model("m", "sim");
  config.instances.vram_mb = 3000;
  config.parameters["memory_mb"] = "5000";
  auto need = InstanceNeedMb(config, Plugins());
  ASSERT_TRUE(need.ok()) << need.status().ToString();
  EXPECT_EQ(*need, 3000);
}

TEST(InstanceNeedMbTest, SimUsesMemoryMbParameter) {
  ModelConfig config = Model("m", "sim");
  EXPECT_EQ(*InstanceNeedMb(config, Plugins()), 0);
  config.parameters["memory_mb"] = "5000";
  EXPECT_EQ(*InstanceNeedMb(config, Plugins()), 5000);
  config.parameters["memory_mb"] = "0";
  EXPECT_EQ(*InstanceNeedMb(config, Plugins()), 0);
}

TEST(InstanceNeedMbTest, SimEstimatesAWarmupAtMaxBatch) {
  ModelConfig config = Model("m", "sim");
  config.parameters["memory_mb"] = "1000";
  config.parameters["memory_mb_per_item"] = "100";
  EXPECT_EQ(*InstanceNeedMb(config, Plugins()), 1100);  // no batch dimension: one item
  config.max_batch_size = 8;
  EXPECT_EQ(*InstanceNeedMb(config, Plugins()), 1800);
  config.parameters["memory_mb_per_item"] = "x";
  EXPECT_THAT(InstanceNeedMb(config, Plugins()).status().message(),
              HasSubstr("parameters.memory_mb_per_item: expected an integer >= 0"));
}

TEST(InstanceNeedMbTest, SourcesAndWhatIsMeasuredAtLoad) {
  ModelConfig sim = Model("m", "sim");
  ModelConfig torch = Model("t", "torch");
  EXPECT_EQ(InstanceNeedSource(sim, Plugins()), NeedSource::kEstimated);
  EXPECT_EQ(InstanceNeedSource(torch, Plugins()), NeedSource::kUnknown);
  EXPECT_TRUE(MeasuredAtLoad(sim));
  EXPECT_TRUE(MeasuredAtLoad(torch));
  torch.instances.isolation = Isolation::kThread;  // in process: nothing measures it
  EXPECT_FALSE(MeasuredAtLoad(torch));
  sim.instances.vram_mb = 10;
  EXPECT_EQ(InstanceNeedSource(sim, Plugins()), NeedSource::kDeclared);
  EXPECT_FALSE(MeasuredAtLoad(sim));
  auto request = PlacementRequestFor(sim, Plugins());
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->need_mb, 10);
  EXPECT_EQ(request->need_source, NeedSource::kDeclared);
}

TEST(PlacementRequestForTest, OnlyASimModelsSecondInstanceAddsNothingOnItsDevice) {
  auto sim = PlacementRequestFor(Model("m", "sim"), Plugins());
  auto torch = PlacementRequestFor(Model("t", "torch"), Plugins());
  ASSERT_TRUE(sim.ok() && torch.ok());
  EXPECT_FALSE(sim->overlaps_on_device);
  EXPECT_TRUE(torch->overlaps_on_device);
}

TEST(InstanceNeedMbTest, SimRejectsBadMemoryMb) {
  ModelConfig config = Model("m", "sim");
  for (const char* bad : {"-1", "1.5", "lots", "", "12MB", "99999999999999999999"}) {
    config.parameters["memory_mb"] = bad;
    auto need = InstanceNeedMb(config, Plugins());
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
  EXPECT_EQ(*InstanceNeedMb(config, Plugins()), 0);
}

TEST(PlanRepositoryTest, PlansWithEachModelsNeed) {
  ModelConfig big = Model("big", "sim");
  big.parameters["memory_mb"] = "50000";
  ModelConfig declared = Model("declared", "torch");
  declared.instances.vram_mb = 20000;
  declared.instances.max_per_device = 8;
  auto devices = ParseSimulatedGpus("2x80GB");
  ASSERT_TRUE(devices.ok());
  auto plan =
      PlanRepository({InRepository(big), InRepository(declared)}, *devices, 1024, Plugins());
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
  EXPECT_THAT(PlanRepository({InRepository(bad)}, *devices, 1024, Plugins()).status().message(),
              HasSubstr("model 'bad': parameters.memory_mb"));
  ModelConfig huge = Model("huge", "sim");
  huge.instances.vram_mb = 100000;
  EXPECT_THAT(PlanRepository({InRepository(huge)}, *devices, 1024, Plugins()).status().message(),
              HasSubstr("cannot place model 'huge': needs 100000 MiB"));
}

// The planner learns a model's need and overlap from its plugin's optional export alone: a
// plugin with it (sim) is heard, one without it (exec), a missing one, and a reader that asks no
// plugin give the defaults (need unknown, a second instance overlaps).
TEST(PlacementRequestForTest, HintsComeFromThePluginWhereItExportsThem) {
  ModelConfig sim = Model("m", "sim");
  sim.max_batch_size = 4;
  sim.parameters["memory_mb"] = "100";
  sim.parameters["memory_mb_per_item"] = "10";
  auto hinted = PlacementRequestFor(sim, Plugins());
  ASSERT_TRUE(hinted.ok()) << hinted.status().ToString();
  EXPECT_EQ(hinted->need_mb, 140);
  EXPECT_EQ(hinted->need_source, NeedSource::kEstimated);
  EXPECT_FALSE(hinted->overlaps_on_device);

  const plugin::PlacementHintReader no_plugins("");
  ModelConfig exec = Model("e", "exec");
  exec.parameters["memory_mb"] = "100";
  ModelConfig missing = Model("x", "no_such_backend");
  for (auto [config, hints] : {std::pair{&exec, &Plugins()}, std::pair{&missing, &Plugins()},
                               std::pair{&sim, &no_plugins}}) {
    auto request = PlacementRequestFor(*config, *hints);
    ASSERT_TRUE(request.ok()) << config->name << ": " << request.status().ToString();
    EXPECT_EQ(request->need_mb, 0) << config->name;
    EXPECT_EQ(request->need_source, NeedSource::kUnknown) << config->name;
    EXPECT_TRUE(request->overlaps_on_device) << config->name;
  }
}

// The plugin's hints are asked even when the need is declared: a config the backend refuses is
// refused when the model is placed, naming the model.
TEST(PlacementRequestForTest, AConfigThePluginRefusesFailsWhenPlaced) {
  ModelConfig config = Model("m", "sim");
  config.instances.vram_mb = 10;
  config.parameters["function"] = "multiply";
  auto request = PlacementRequestFor(config, Plugins());
  ASSERT_FALSE(request.ok());
  EXPECT_EQ(request.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(request.status().message(), HasSubstr("model 'm': parameters.function: unknown"));
}

}  // namespace
}  // namespace switchyard
