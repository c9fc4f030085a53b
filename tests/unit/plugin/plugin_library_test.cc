// The host side of the plugin ABI against real plugins (test_plugin.cc built three ways):
// loading and the version check, model/instance creation, in-process execution through
// InferRequestBatch, and containment of a plugin that throws.

#include "plugin/plugin_library.h"

#include <gtest/gtest.h>

#include <cstring>

#include "plugin/infer_request_batch.h"
#include "plugin/plugin_model.h"
#include "testing/identity_plugin.h"

namespace switchyard::plugin {
namespace {

using testing::IdentityConfig;
using testing::IdentityRequest;

// A plugin's model of `config` and one CPU instance of it (destroyed in that order, reversed).
struct Loaded {
  std::unique_ptr<PluginLibrary> library;
  std::unique_ptr<PluginModel> model;
  std::unique_ptr<PluginInstance> instance;
};

void Load(const char* path, const ModelConfig& config, Loaded* loaded) {
  auto library = PluginLibrary::Load(path);
  ASSERT_TRUE(library.ok()) << library.status().ToString();
  loaded->library = std::move(library.value());
  auto model = PluginModel::Create(loaded->library.get(), config, 1, "/tmp");
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  loaded->model = std::move(model.value());
  auto instance = PluginInstance::Create(loaded->model.get(), "ident/0", 0, 0, "");
  ASSERT_TRUE(instance.ok()) << instance.status().ToString();
  loaded->instance = std::move(instance.value());
}

TEST(PluginLibraryTest, LoadsAndExecutesInProcess) {
  ModelConfig config = IdentityConfig();
  Loaded loaded;
  ASSERT_NO_FATAL_FAILURE(Load(TEST_PLUGIN_GOOD, config, &loaded));

  auto first = IdentityRequest(1, 2);
  auto second = IdentityRequest(3, 4);
  InferRequest* requests[] = {first.get(), second.get()};
  InferRequestBatch batch(&config, requests);
  Status status = loaded.instance->Execute(batch);
  ASSERT_TRUE(status.ok()) << status.ToString();
  auto outputs = batch.Finish(status);
  ASSERT_EQ(outputs.size(), 2u);
  for (std::size_t r = 0; r < 2; ++r) {
    ASSERT_TRUE(outputs[r].ok()) << outputs[r].status().ToString();
    ASSERT_EQ(outputs[r]->size(), 1u);
    const Tensor& out = (*outputs[r])[0];
    EXPECT_EQ(out.name, "OUT");
    EXPECT_EQ(out.shape, (Shape{1, 2}));
    int32_t values[2];
    std::memcpy(values, out.data.bytes().data(), 8);
    EXPECT_EQ(values[0], r == 0 ? 1 : 3);
    EXPECT_EQ(values[1], r == 0 ? 2 : 4);
  }
}

// The test plugin fails inputs outside the host memory it was told of while it knows of some.
TEST(PluginLibraryTest, HostMemoryCallsReachThePlugin) {
  ModelConfig config = IdentityConfig();
  Loaded loaded;
  ASSERT_NO_FATAL_FAILURE(Load(TEST_PLUGIN_GOOD, config, &loaded));
  auto inside = IdentityRequest(1, 2);
  auto outside = IdentityRequest(3, 4);
  auto run = [&](InferRequest* request) {
    InferRequest* requests[] = {request};
    InferRequestBatch batch(&config, requests);
    return batch.Finish(loaded.instance->Execute(batch))[0].status();
  };
  std::span<const std::byte> bytes = inside->inputs[0].data.bytes();
  std::span<std::byte> mapped(const_cast<std::byte*>(bytes.data()), bytes.size());

  loaded.instance->HostMemoryMapped(mapped);
  EXPECT_TRUE(run(inside.get()).ok());
  Status refused = run(outside.get());
  EXPECT_EQ(refused.code(), StatusCode::kInternal) << refused.ToString();
  loaded.instance->HostMemoryUnmapping(mapped);
  EXPECT_TRUE(run(outside.get()).ok());
}

TEST(PluginLibraryTest, RefusesAnotherApiVersion) {
  auto library = PluginLibrary::Load(TEST_PLUGIN_BAD_VERSION);
  ASSERT_FALSE(library.ok());
  EXPECT_EQ(library.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(library.status().message().find("version 999"), std::string::npos)
      << library.status().message();
  EXPECT_NE(library.status().message().find("rebuild the plugin"), std::string::npos);
}

TEST(PluginLibraryTest, MissingFileIsNotFound) {
  auto library = PluginLibrary::Load("/nonexistent/libswitchyard_backend_x.so");
  ASSERT_FALSE(library.ok());
  EXPECT_EQ(library.status().code(), StatusCode::kNotFound);
  EXPECT_NE(library.status().message().find("/nonexistent/"), std::string::npos);
}

TEST(PluginLibraryTest, AnExceptionFromExecuteIsContained) {
  ModelConfig config = IdentityConfig();
  Loaded loaded;
  ASSERT_NO_FATAL_FAILURE(Load(TEST_PLUGIN_THROWS, config, &loaded));
  auto request = IdentityRequest(5, 6);
  InferRequest* requests[] = {request.get()};
  InferRequestBatch batch(&config, requests);
  Status status = loaded.instance->Execute(batch);
  EXPECT_EQ(status.code(), StatusCode::kInternal);
  EXPECT_NE(status.message().find("the test plugin throws"), std::string::npos) << status.message();
  auto outputs = batch.Finish(status);
  ASSERT_EQ(outputs.size(), 1u);
  EXPECT_EQ(outputs[0].status().code(), StatusCode::kInternal);
}

TEST(PluginLibraryTest, ALostDeviceIsRememberedWithThePluginsMessage) {
  ModelConfig config = IdentityConfig();
  Loaded loaded;
  ASSERT_NO_FATAL_FAILURE(Load(TEST_PLUGIN_GOOD, config, &loaded));
  auto fine = IdentityRequest(1, 2);
  InferRequest* first[] = {fine.get()};
  InferRequestBatch ok_batch(&config, first);
  ASSERT_TRUE(loaded.instance->Execute(ok_batch).ok());
  EXPECT_FALSE(loaded.instance->device_lost().has_value());

  auto losing = IdentityRequest(-66, 0);
  InferRequest* second[] = {losing.get()};
  InferRequestBatch batch(&config, second);
  Status status = loaded.instance->Execute(batch);
  EXPECT_EQ(status.code(), StatusCode::kInternal);
  EXPECT_EQ(status.message(), "ident/0: test plugin: device lost");
  EXPECT_EQ(loaded.instance->device_lost(), "test plugin: device lost");
}

TEST(PluginLibraryTest, ModelInitErrorsNameTheModel) {
  auto library = PluginLibrary::Load(TEST_PLUGIN_GOOD);
  ASSERT_TRUE(library.ok());
  ModelConfig config = IdentityConfig();
  config.outputs.push_back({.name = "EXTRA", .datatype = DataType::kInt32, .dims = {2}});
  auto model = PluginModel::Create(library->get(), config, 1, "/tmp");
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(model.status().message().find("model 'ident'"), std::string::npos);
  EXPECT_NE(model.status().message().find("as many outputs"), std::string::npos);
}

}  // namespace
}  // namespace switchyard::plugin
