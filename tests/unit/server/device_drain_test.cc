// A GPU whose telemetry turns kFailed while the server runs: its instances are drained (the
// other instances take the work), a model left with none is not ready and says why, and the
// GPU's instances come back when it is healthy again. The failure is injected through
// ServerImpl::ApplyDeviceTelemetry, what the NVML poller calls after each poll.

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>

#include "server/server_impl.h"

namespace switchyard {
namespace {

namespace fs = std::filesystem;

// In process (isolation: thread): no worker processes, so the test is quick.
constexpr const char* kModel = R"(
backend: sim
max_batch_size: 4
inputs: [{name: INPUT0, datatype: INT32, shape: [2]}]
outputs: [{name: OUTPUT0, datatype: INT32, shape: [2]}]
batching: {max_queue_delay_us: 0}
warmup: {requests: 0}
parameters: {function: identity}
)";

class DeviceDrainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("switchyard_drain_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    AddModel("both", "instances: {per_device: 1, isolation: thread}\n");  // GPU0 and GPU1
    AddModel("only1", "instances: {devices: [1], per_device: 1, isolation: thread}\n");
    ServerOptions options;
    options.model_repository = root_.string();
    options.simulate_gpus = "2x80GB";
    options.worker_executable = "/nonexistent";       // no worker processes here
    options.backend_directory = SWITCHYARD_BACKENDS;  // the sim plugin, loaded here
    server_ = std::make_unique<ServerImpl>(options);
    ASSERT_TRUE(server_->Load().ok());
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(root_);
  }

  void AddModel(const std::string& name, const std::string& instances) {
    fs::create_directories(root_ / name / "1");
    std::ofstream(root_ / name / "config.yaml") << kModel << instances;
  }

  StatusOr<InferResponse> Infer(const std::string& model) {
    auto request = std::make_unique<InferRequest>();
    request->model_name = model;
    std::vector<std::byte> bytes(2 * sizeof(int32_t));
    request->inputs.push_back({"INPUT0", DataType::kInt32, {1, 2}, TensorData::Owned(bytes)});
    std::promise<StatusOr<InferResponse>> promise;
    server_->Infer(std::move(request),
                   [&](StatusOr<InferResponse> r) { promise.set_value(std::move(r)); });
    return promise.get_future().get();
  }

  // GPU1's health in a snapshot.
  static std::shared_ptr<const DeviceTelemetry> Gpu1(GpuHealth health, std::string detail) {
    auto telemetry = std::make_shared<DeviceTelemetry>();
    telemetry->sequence = 7;
    telemetry->devices.push_back({.index = 0, .uuid = "SIM-GPU-0"});
    telemetry->devices.push_back(
        {.index = 1, .uuid = "SIM-GPU-1", .health = health, .health_detail = std::move(detail)});
    return telemetry;
  }

  // Batches executed per instance of `model`.
  std::vector<uint64_t> Batches(const std::string& model) {
    std::vector<uint64_t> batches;
    for (const ModelStatus& m : server_->GetStatus().models) {
      if (m.name != model) continue;
      for (const InstanceStatus& i : m.instances) batches.push_back(i.batches);
    }
    return batches;
  }

  fs::path root_;
  std::unique_ptr<ServerImpl> server_;
};

TEST_F(DeviceDrainTest, FailedGpuIsDrainedAndComesBackWhenHealthy) {
  ASSERT_TRUE(server_->IsReady());
  server_->ApplyDeviceTelemetry(Gpu1(GpuHealth::kFailed, "NVML reports the GPU lost"));
  const std::string reason = "GPU1 failed: NVML reports the GPU lost";

  EXPECT_FALSE(server_->IsReady());
  auto only1 = server_->GetModel("only1", -1);
  ASSERT_TRUE(only1.ok());
  EXPECT_EQ(only1->state, ModelState::kUnavailable);
  EXPECT_EQ(only1->reason, "no instance is available (drained: " + reason + ")");
  EXPECT_EQ(server_->GetModel("both", -1)->state, ModelState::kReady);

  // Sequential requests: an untried instance looks fastest, so without the drain both/1 would
  // take some of them.
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(Infer("both").ok());
  EXPECT_EQ(Batches("both"), (std::vector<uint64_t>{6, 0}));

  ServerStatus status = server_->GetStatus();
  ASSERT_EQ(status.devices.size(), 2u);
  EXPECT_EQ(status.devices[0].health, "healthy");
  EXPECT_EQ(status.devices[1].health, "failed");
  EXPECT_EQ(status.devices[1].health_detail, "NVML reports the GPU lost");
  for (const ModelStatus& m : status.models) {
    for (const InstanceStatus& i : m.instances) {
      const bool on_gpu1 = i.device == "GPU1";
      EXPECT_EQ(i.state, on_gpu1 ? "DRAINED" : "READY") << i.name;
      EXPECT_EQ(i.drained, on_gpu1 ? reason : "") << i.name;
    }
  }

  // Degraded is not failed: back in service.
  server_->ApplyDeviceTelemetry(Gpu1(GpuHealth::kDegraded, "1 uncorrected ECC error"));
  EXPECT_TRUE(server_->IsReady());
  EXPECT_TRUE(Infer("only1").ok());
  EXPECT_EQ(Batches("only1"), (std::vector<uint64_t>{1}));
  EXPECT_EQ(server_->GetStatus().devices[1].health, "degraded");
}

TEST_F(DeviceDrainTest, AModelLoadedLaterOnAFailedGpuIsDrainedToo) {
  server_->ApplyDeviceTelemetry(Gpu1(GpuHealth::kFailed, "lost"));
  ASSERT_TRUE(server_->LoadModel("only1").ok());  // a reload: new instances on GPU1
  auto only1 = server_->GetModel("only1", -1);
  ASSERT_TRUE(only1.ok());
  EXPECT_EQ(only1->state, ModelState::kUnavailable);
  EXPECT_EQ(only1->reason, "no instance is available (drained: GPU1 failed: lost)");
}

}  // namespace
}  // namespace switchyard
