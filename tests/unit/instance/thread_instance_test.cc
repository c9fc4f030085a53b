// An in-process plugin instance (ThreadInstance) whose backend loses its device: the
// device-fault listener hears it once, and later batches are refused without reaching the
// plugin (it may not be called again). Uses the test plugin (tests/unit/plugin/test_plugin.cc).

#include "instance/thread_instance.h"

#include <gtest/gtest.h>

#include <cstring>
#include <future>
#include <mutex>

#include "plugin/plugin_library.h"
#include "testing/identity_plugin.h"

namespace switchyard {
namespace {

using testing::IdentityConfig;
using testing::IdentityRequest;

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
  auto plugin_instance = plugin::PluginInstance::Create(model->get(), "ident/0", 0, 1, "");
  ASSERT_TRUE(plugin_instance.ok()) << plugin_instance.status().ToString();
  ThreadInstance instance(&config, std::move(plugin_instance).value());
  std::mutex mu;
  std::vector<std::string> heard;
  instance.SetDeviceFaultListener([&](bool lost, const std::string& why) {
    std::lock_guard<std::mutex> lock(mu);
    heard.push_back((lost ? "lost: " : "recovered: ") + why);
  });

  auto fine = IdentityRequest(1, 2);
  auto before = RunOne(instance, fine.get());
  ASSERT_EQ(before.size(), 1u);
  EXPECT_TRUE(before[0].ok()) << before[0].status().ToString();

  auto losing = IdentityRequest(-66, 0);
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
