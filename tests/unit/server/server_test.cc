#include "switchyard/server.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>

#include "testing/sim_models.h"

namespace switchyard {
namespace {

namespace fs = std::filesystem;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("switchyard_server_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(root_);
  }

  void AddModel(const std::string& name, const std::string& yaml, int version = 1) {
    fs::create_directories(root_ / name / std::to_string(version));
    std::ofstream(root_ / name / "config.yaml") << yaml;
  }

  StatusOr<std::unique_ptr<Server>> Create() {
    ServerOptions options;
    options.model_repository = root_.string();
    options.worker_executable = SWITCHYARD_BIN;  // sim instances run in worker processes
    options.backend_directory = backend_directory_;
    options.simulate_gpus = simulate_gpus_;
    return Server::Create(options);
  }

  StatusOr<InferResponse> Infer(std::unique_ptr<InferRequest> request) {
    std::promise<StatusOr<InferResponse>> promise;
    server_->Infer(std::move(request),
                   [&](StatusOr<InferResponse> r) { promise.set_value(std::move(r)); });
    return promise.get_future().get();
  }

  static std::unique_ptr<InferRequest> AddSubRequest(const std::string& model, int32_t a,
                                                     int32_t b) {
    auto r = std::make_unique<InferRequest>();
    r->model_name = model;
    r->id = "req-1";
    for (auto [name, v] : {std::pair{"INPUT0", a}, std::pair{"INPUT1", b}}) {
      std::vector<std::byte> bytes(4 * sizeof(int32_t));
      for (int i = 0; i < 4; ++i) std::memcpy(bytes.data() + 4 * i, &v, 4);
      r->inputs.push_back({name, DataType::kInt32, {1, 4}, TensorData::Owned(bytes)});
    }
    return r;
  }

  static constexpr const char* kAddSub = testing::kAddSubConfig;

  fs::path root_;
  std::string backend_directory_;  // empty: next to the binary
  std::optional<std::string> simulate_gpus_;
  std::unique_ptr<Server> server_;
};

TEST_F(ServerTest, ServesLatestVersionAndComputes) {
  AddModel("addsub", kAddSub, 1);
  fs::create_directories(root_ / "addsub" / "3");
  auto created = Create();
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  server_ = std::move(created).value();
  EXPECT_TRUE(server_->IsReady());
  auto info = server_->GetModel("addsub", -1);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->version, 3);
  EXPECT_EQ(info->versions, (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(server_->GetModel("addsub", 1).status().code(), StatusCode::kNotFound);

  auto response = Infer(AddSubRequest("addsub", 5, 2));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->id, "req-1");
  EXPECT_EQ(response->model_version, 3);
  ASSERT_EQ(response->outputs.size(), 2u);
  int32_t sum = 0, diff = 0;
  std::memcpy(&sum, response->outputs[0].data.bytes().data(), 4);
  std::memcpy(&diff, response->outputs[1].data.bytes().data(), 4);
  EXPECT_EQ(sum, 7);
  EXPECT_EQ(diff, 3);

  auto stats = server_->Statistics("addsub", -1);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ((*stats)[0].inference_stats.success.count, 1u);
  EXPECT_EQ((*stats)[0].inference_count, 1u);
  EXPECT_NE(server_->MetricsText().find(
                "switchyard_requests_total{model=\"addsub\",outcome=\"success\"} 1"),
            std::string::npos);
}

TEST_F(ServerTest, ErrorsReachTheCallback) {
  AddModel("addsub", kAddSub);
  server_ = std::move(Create()).value();
  EXPECT_EQ(Infer(AddSubRequest("nope", 1, 1)).status().code(), StatusCode::kNotFound);
  auto bad = AddSubRequest("addsub", 1, 1);
  bad->inputs.pop_back();
  EXPECT_EQ(Infer(std::move(bad)).status().code(), StatusCode::kInvalidArgument);
  auto priority = AddSubRequest("addsub", 1, 1);
  priority->priority = 2;  // one level only
  EXPECT_EQ(Infer(std::move(priority)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(server_->MetricsText().find(
                "switchyard_requests_total{model=\"addsub\",outcome=\"invalid\"} 2"),
            std::string::npos);
}

TEST_F(ServerTest, InjectedFailureIsInternal) {
  std::string yaml = kAddSub;
  yaml.replace(yaml.find("{function: add_sub}"), 19, "{function: add_sub, failure_rate: 1}");
  AddModel("broken", yaml + "warmup: {requests: 0}\n");
  server_ = std::move(Create()).value();
  auto r = Infer(AddSubRequest("broken", 1, 1));
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  EXPECT_NE(r.status().message().find("injected failure"), std::string::npos);
}

TEST_F(ServerTest, FailedWarmupLeavesModelUnavailable) {
  std::string yaml = kAddSub;
  yaml.replace(yaml.find("{function: add_sub}"), 19, "{function: add_sub, failure_rate: 1}");
  AddModel("broken", yaml + "warmup: {requests: 2}\n");
  AddModel("fine", kAddSub);
  server_ = std::move(Create()).value();
  EXPECT_FALSE(server_->IsReady());
  auto info = server_->GetModel("broken", -1);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->state, ModelState::kUnavailable);
  EXPECT_NE(info->reason.find("warm-up request 1 of 2"), std::string::npos) << info->reason;
  EXPECT_EQ(Infer(AddSubRequest("broken", 1, 1)).status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(Infer(AddSubRequest("fine", 1, 1)).ok());
}

TEST_F(ServerTest, StartupFailsForInvalidModels) {
  AddModel("good", kAddSub);
  AddModel("bad", "backend: sim\nmax_batch_size: -1\n");
  auto created = Create();
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.status().message().find("max_batch_size"), std::string::npos);

  fs::remove_all(root_ / "bad");
  // A backend whose plugin is missing.
  fs::remove_all(root_ / "good");
  AddModel("torchy", std::string(kAddSub).replace(1, 12, "backend: torch"));
  backend_directory_ = (root_ / "no-plugins-here").string();
  created = Create();
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(created.status().message().find("torchy"), std::string::npos)
      << created.status().message();
}

// A sim model whose worker reports 1000 MiB + 100 MiB per item of the largest batch it ran.
constexpr const char* kMeasured = R"(
backend: sim
max_batch_size: 8
inputs: [{name: INPUT0, datatype: INT32, shape: [2]}]
outputs: [{name: OUTPUT0, datatype: INT32, shape: [2]}]
instances: {per_device: auto, max_per_device: 8}
parameters: {function: identity, memory_mb: 1000, memory_mb_per_item: 100}
)";

TEST_F(ServerTest, AutoPlacementUsesTheNeedMeasuredAfterWarmupAtMaxBatch) {
  AddModel("measured", std::string(kMeasured) + "warmup: {requests: 1}\n");
  simulate_gpus_ = "5GB,3GB:used=500";  // budgets 4096 and 1548 MiB
  auto created = Create();
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  server_ = std::move(created).value();
  ServerStatus status = server_->GetStatus();
  ASSERT_EQ(status.models.size(), 1u);
  const ModelStatus& model = status.models[0];
  // The warm-up ran a batch of 8: 1000 + 8 x 100 = 1800 MiB, which does not fit GPU1 (a batch-1
  // warm-up would find 1100 and place one on each GPU). A sim model: one instance per GPU.
  EXPECT_EQ(model.vram_need_mb, 1800);
  EXPECT_EQ(model.vram_need, "measured");
  std::vector<std::string> devices;
  for (const InstanceStatus& instance : model.instances) devices.push_back(instance.device);
  EXPECT_EQ(devices, (std::vector<std::string>{"GPU0"}));
  EXPECT_EQ(status.devices[0].planned_mb, 1800);
  EXPECT_EQ(status.devices[1].planned_mb, 0);
  EXPECT_TRUE(server_->IsReady());
}

TEST_F(ServerTest, StartupFailsWhenTheMeasuredNeedFitsNowhere) {
  AddModel("measured", std::string(kMeasured) + "warmup: {requests: 1}\n");
  simulate_gpus_ = "2GB,3GB";  // budgets 1024 and 2048 MiB: 1800 fits on GPU1 only
  {
    // Measured on GPU0, where it does not fit: that instance ends, instance 0 starts on GPU1.
    auto created = Create();
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    ServerStatus status = (*created)->GetStatus();
    ASSERT_EQ(status.models.at(0).instances.size(), 1u);
    EXPECT_EQ(status.models[0].instances[0].device, "GPU1");
    EXPECT_EQ(status.models[0].instances[0].name, "measured/0");
    EXPECT_TRUE((*created)->IsReady());
  }
  simulate_gpus_ = "2GB,2GB";
  auto created = Create();
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(created.status().message(),
            "cannot place model 'measured': needs 1800 MiB (measured) on each of 1 GPU; free: "
            "GPU0 1024 MiB, GPU1 1024 MiB (reserve 1024 MiB each)");
}

TEST_F(ServerTest, ShutdownRefusesNewWork) {
  AddModel("addsub", kAddSub);
  server_ = std::move(Create()).value();
  server_->Shutdown();
  EXPECT_FALSE(server_->IsReady());
  EXPECT_EQ(Infer(AddSubRequest("addsub", 1, 1)).status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace switchyard
