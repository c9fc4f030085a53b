// An in-process plugin instance (ThreadInstance) whose backend loses its device: the
// device-fault listener hears it once, and later batches are refused without reaching the
// plugin (it may not be called again). Uses the test plugin (tests/unit/plugin/test_plugin.cc).

#include "instance/thread_instance.h"

#include <gtest/gtest.h>

#include <cstring>
#include <future>
#include <mutex>

#include "plugin/plugin_library.h"

namespace switchyard {
namespace {

ModelConfig IdentityConfig() {
  ModelConfig config;
  config.name = "ident";
  config.backend = "test";
  config.max_batch_size = 4;
  config.inputs = {{.name = "IN", .datatype = DataType::kInt32, .dims = {2}}};
  config.outputs = {{.name = "OUT", .datatype = DataType::kInt32, .dims = {2}}};
  return config;
}

std::unique_ptr<InferRequest> Request(int32_t a, int32_t b) {
  auto request = std::make_unique<InferRequest>();
  std::vector<std::byte> bytes(8);
  std::memcpy(bytes.data(), &a, 4);
  std::memcpy(bytes.data() + 4, &b, 4);
  request->inputs.push_back({"IN", DataType::kInt32, {1, 2}, TensorData::Owned(bytes)});
  return request;
}

std::vector<RequestOutputs> RunOne(ThreadInstance& instance, InferRequest* request) {
  std::promise<std::vector<RequestOutputs>> promise;
  InferRequest* requests[] = {request};
  instance.Execute(requests, [&](std::vector<RequestOutputs> outputs) {
    promise.set_value(std::move(outputs));
  });
  return promise.get_future().get();
}

TEST(ThreadInstanceTest, ALostDeviceIsHeardOnceAndLaterBatchesNeverReachThePlugin) {
  const ModelConfig config = IdentityConfig();
  auto library = plugin::PluginLibrary::Load(TEST_PLUGIN_GOOD);
  ASSERT_TRUE(library.ok()) << library.status().ToString();
  auto model = plugin::PluginModel::Create(library->get(), config, 1, "/tmp");
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto plugin_instance = plugin::PluginInstance::Create(model->get(), "ident/0", 0, 1);
  ASSERT_TRUE(plugin_instance.ok()) << plugin_instance.status().ToString();
  ThreadInstance instance(&config, std::move(plugin_instance).value());
  std::mutex mu;
  std::vector<std::string> heard;
  instance.SetDeviceFaultListener([&](bool lost, const std::string& why) {
    std::lock_guard<std::mutex> lock(mu);
    heard.push_back((lost ? "lost: " : "recovered: ") + why);
  });

  auto fine = Request(1, 2);
  auto before = RunOne(instance, fine.get());
  ASSERT_EQ(before.size(), 1u);
  EXPECT_TRUE(before[0].ok()) << before[0].status().ToString();

  auto losing = Request(-66, 0);
  auto lost = RunOne(instance, losing.get());
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0].status().code(), StatusCode::kInternal);
  EXPECT_EQ(lost[0].status().message(), "ident/0: test plugin: device lost");

  // The same request that worked before is refused now: the plugin is not called any more.
  auto after = RunOne(instance, fine.get());
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(after[0].status().message(), "ident/0: its GPU was lost");
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(heard, (std::vector<std::string>{"lost: test plugin: device lost"}));
}

}  // namespace
}  // namespace switchyard
