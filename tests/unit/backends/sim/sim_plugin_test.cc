// The sim plugin through its C ABI, loaded by the server's plugin host (src/plugin): its
// placement hints, and the fields of grown structs it reads only where the host's struct_size
// covers them (a host from before a field existed passes a smaller struct).

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <string>

#include "plugin/host_api.h"
#include "plugin/model_description.h"
#include "plugin/plugin_library.h"

namespace switchyard {
namespace {

ModelConfig SimConfig() {
  ModelConfig config;
  config.name = "m";
  config.backend = "sim";
  config.max_batch_size = 8;
  config.inputs = {{.name = "IN", .datatype = DataType::kInt32, .dims = {2}}};
  config.outputs = {{.name = "OUT", .datatype = DataType::kInt32, .dims = {2}}};
  config.parameters = {{"memory_mb", "1000"}, {"memory_mb_per_item", "100"}};
  return config;
}

class SimPluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto library = plugin::PluginLibrary::Load(SIM_PLUGIN_PATH);
    ASSERT_TRUE(library.ok()) << library.status().ToString();
    library_ = std::move(library).value();
    // The optional export the host's PlacementHintReader looks up (the library is loaded).
    void* handle = dlopen(SIM_PLUGIN_PATH, RTLD_NOW | RTLD_NOLOAD);
    ASSERT_NE(handle, nullptr);
    hints_ =
        reinterpret_cast<decltype(&SyModelPlacementHints)>(dlsym(handle, "SyModelPlacementHints"));
    dlclose(handle);
  }
  const plugin::PluginFunctions& f() const { return library_->functions(); }

  std::unique_ptr<plugin::PluginLibrary> library_;
  decltype(&SyModelPlacementHints) hints_ = nullptr;
};

TEST_F(SimPluginTest, HintsAreTheWarmupMemoryAndNoOverlapWrittenAsFarAsTheStructGoes) {
  auto hints = hints_;
  ASSERT_NE(hints, nullptr);
  const ModelConfig config = SimConfig();
  plugin::ModelDescription desc(config, 0, "");
  SyPlacementHints full = {.struct_size = sizeof(SyPlacementHints),
                           .device_memory_known = 0,
                           .device_memory_mb = 0,
                           .overlaps_on_device = 1};
  Status status = plugin::TakeError(hints(plugin::HostApi(), desc.get(), &full));
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(full.device_memory_known, 1);
  EXPECT_EQ(full.device_memory_mb, 1800u);
  EXPECT_EQ(full.overlaps_on_device, 0);

  // A host that knew only the memory fields: the rest of its struct is not the plugin's to write.
  SyPlacementHints older = {.struct_size = offsetof(SyPlacementHints, overlaps_on_device),
                            .device_memory_known = 0,
                            .device_memory_mb = 0,
                            .overlaps_on_device = 7};
  ASSERT_TRUE(plugin::TakeError(hints(plugin::HostApi(), desc.get(), &older)).ok());
  EXPECT_EQ(older.device_memory_mb, 1800u);
  EXPECT_EQ(older.overlaps_on_device, 7);
}

TEST_F(SimPluginTest, InstanceDescFieldsAreReadOnlyWhereTheHostsStructCoversThem) {
  const ModelConfig config = SimConfig();
  plugin::ModelDescription desc(config, 1, "/tmp");
  void* model = nullptr;
  Status loaded = plugin::TakeError(f().model_init(library_->backend_state(), desc.get(), &model));
  ASSERT_TRUE(loaded.ok()) << loaded.ToString();
  SyInstanceDesc instance = {.struct_size = sizeof(SyInstanceDesc),
                             .name = "m/0",
                             .index = 0,
                             .gpu_count = 1,
                             .cuda_visible_devices = "",
                             .simulated_gpu = "not a device"};
  void* state = nullptr;
  // A host that passes the field: the plugin reads it (and refuses a malformed one).
  Status read = plugin::TakeError(f().instance_init(model, &instance, &state));
  EXPECT_EQ(read.code(), StatusCode::kInvalidArgument) << read.ToString();
  EXPECT_NE(read.message().find("not a device"), std::string::npos) << read.ToString();
  // A host from before the field (2026-12-08): whatever lies there is not read.
  instance.struct_size = offsetof(SyInstanceDesc, simulated_gpu);
  ASSERT_TRUE(plugin::TakeError(f().instance_init(model, &instance, &state)).ok());
  f().instance_fini(state);
  f().model_fini(model);
}

}  // namespace
}  // namespace switchyard
