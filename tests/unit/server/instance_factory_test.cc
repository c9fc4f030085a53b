#include "server/instance_factory.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>
#include <vector>

#include "repository/config_parser.h"
#include "switchyard/backend_sdk/simulated_gpu.h"
#include "testing/identity_plugin.h"

namespace switchyard {
namespace {

// The plugins as the build puts them (build/backends: the sim plugin among them).
InstanceFactory::Options WithBuiltPlugins() {
  InstanceFactory::Options options;
  options.backend_directory = SWITCHYARD_BACKENDS;
  return options;
}

// A sim model placed on a real GPU (as on a GPU machine, where every model may be placed on the
// GPUs) has no simulated device to run on: its in-process instances run on the CPU.
TEST(InstanceFactoryTest, InProcessSimInstanceOnARealGpu) {
  Device gpu{.index = 0,
             .physical_index = 0,
             .uuid = "GPU-00000000-0000-0000-0000-000000000000",
             .name = "NVIDIA H200",
             .total_mb = 143771};
  auto factory = InstanceFactory::Create(WithBuiltPlugins(), {gpu});
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
  EXPECT_EQ((*factory)->SimulatedGpu({0}), "");
}

std::vector<RequestOutputs> RunOne(Instance& instance, InferRequest* request) {
  std::promise<std::vector<RequestOutputs>> promise;
  InferRequest* requests[] = {request};
  instance.Execute(requests, [&](std::vector<RequestOutputs> outputs) {
    promise.set_value(std::move(outputs));
  });
  return promise.get_future().get();
}

// Two in-process sim instances (the sim plugin on threads of the server) placed on one
// simulated GPU run their batches one after another: both hold the GPU's shared page, and the
// page counts every hold and the most holders ever at once.
TEST(InstanceFactoryTest, InProcessSimInstancesOnOneSimulatedGpuTakeTurns) {
  auto devices = ParseSimulatedGpus("80GB,80GB");
  ASSERT_TRUE(devices.ok()) << devices.status().ToString();
  auto factory = InstanceFactory::Create(WithBuiltPlugins(), *devices);
  ASSERT_TRUE(factory.ok()) << factory.status().ToString();
  ModelConfig config = testing::IdentityConfig();
  config.parameters["service_time_us"] = "20000";
  config.instances.isolation = Isolation::kThread;
  // A group of both GPUs runs on its first one's device.
  EXPECT_EQ((*factory)->SimulatedGpu({0, 1}), (*factory)->SimulatedGpu({0}));
  EXPECT_NE((*factory)->SimulatedGpu({1}), (*factory)->SimulatedGpu({0}));
  auto made = (*factory)->Make(&config, 1, "", {{.devices = {0}}, {.devices = {0, 1}}});
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  ASSERT_EQ(made->instances.size(), 2u);
  auto gpu = sdk::SimulatedGpu::Open((*factory)->SimulatedGpu({0}));
  ASSERT_TRUE(gpu.ok()) << gpu.status().message();

  constexpr int kBatchesEach = 3;
  std::vector<std::thread> clients;
  std::vector<int> answered(2, 0);
  for (int i = 0; i < 2; ++i) {
    clients.emplace_back([&, i] {
      for (int b = 0; b < kBatchesEach; ++b) {
        auto request = testing::IdentityRequest(i, b);
        auto outputs = RunOne(*made->instances[static_cast<std::size_t>(i)], request.get());
        if (outputs.size() == 1 && outputs[0].ok()) ++answered[static_cast<std::size_t>(i)];
      }
    });
  }
  for (auto& client : clients) client.join();
  EXPECT_EQ(answered, (std::vector<int>{kBatchesEach, kBatchesEach}));
  const sdk::SimulatedGpuPage& page = (*gpu)->page();
  EXPECT_EQ(page.occupations.load(), uint64_t{2 * kBatchesEach});  // every batch held GPU0
  EXPECT_EQ(page.most_occupants.load(), 1u);                       // never two at once
}

// A config the sim plugin refuses fails at load, naming the model, as it did when the sim
// backend was part of the server; so do parameters that would end the server's own process.
TEST(InstanceFactoryTest, InProcessSimConfigErrorsNameTheModel) {
  auto factory = InstanceFactory::Create(WithBuiltPlugins(), {});
  ASSERT_TRUE(factory.ok()) << factory.status().ToString();
  ModelConfig config = testing::IdentityConfig();
  config.instances.isolation = Isolation::kThread;
  config.parameters["crash_on_value"] = "7";
  auto made = (*factory)->Make(&config, 1, "", {{}});
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(made.status().message(),
            "model 'ident': the crash_on_value, crash_at_load and device_lost_on_value "
            "parameters need `isolation: process`");
}

}  // namespace
}  // namespace switchyard
