#include "server/instance_factory.h"

#include <gtest/gtest.h>

#include "repository/config_parser.h"

namespace switchyard {
namespace {

// A sim model placed on a real GPU (as on a GPU machine, where every model may be placed on the
// GPUs) has no simulated device to run on: its in-process instances run on the CPU.
TEST(InstanceFactoryTest, InProcessSimInstanceOnARealGpu) {
  Device gpu{.index = 0,
             .physical_index = 0,
             .uuid = "GPU-00000000-0000-0000-0000-000000000000",
             .name = "NVIDIA H200",
             .total_mb = 143771};
  auto factory = InstanceFactory::Create({}, {gpu});
  ASSERT_TRUE(factory.ok()) << factory.status().ToString();
  auto config = ParseModelConfig(
      "backend: sim\n"
      "max_batch_size: 8\n"
      "inputs: [{name: INPUT0, datatype: FP32, shape: [4]}]\n"
      "outputs: [{name: OUTPUT0, datatype: FP32, shape: [4]}]\n"
      "instances: {per_device: 2, isolation: thread}\n",
      "echo", "echo/config.yaml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  auto made = (*factory)->Make(&*config, 1, "", {{.devices = {0}}, {.devices = {0}}});
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_EQ(made->instances.size(), 2u);
}

}  // namespace
}  // namespace switchyard
