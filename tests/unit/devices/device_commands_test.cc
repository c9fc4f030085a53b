// `switchyard plan` and `switchyard devices`, parsed by CLI11 as main parses them.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "cli/devices_command.h"
#include "cli/plan_command.h"

namespace switchyard {
namespace {

namespace fs = std::filesystem;
using testing::HasSubstr;
using testing::Not;

struct Result {
  int code = 0;
  std::string out;
  std::string err;
};

// Runs `switchyard <args>` with the plan and devices commands registered; `args` as argv.
Result RunSwitchyard(std::vector<std::string> args) {
  CLI::App app;
  app.require_subcommand(1);
  cli::AddPlanCommand(app);
  cli::AddDevicesCommand(app);
  Result result;
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  std::reverse(args.begin(), args.end());  // CLI11 takes the vector last argument first
  try {
    app.parse(args);
  } catch (const CLI::ParseError& error) {  // CLI::RuntimeError too: the command's exit code
    result.code = error.get_exit_code();
  }
  result.out = testing::internal::GetCapturedStdout();
  result.err = testing::internal::GetCapturedStderr();
  return result;
}

// The same with `args` split at spaces.
Result RunSwitchyard(const std::string& args) {
  std::vector<std::string> argv;
  std::istringstream words(args);
  for (std::string word; words >> word;) argv.push_back(word);
  return RunSwitchyard(std::move(argv));
}

class DeviceCommandsTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "switchyard_plan_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    // Without --simulate-gpus the commands look for NVML: make sure there is none, and no
    // CUDA_VISIBLE_DEVICES from the test's environment, unless a test sets them.
    if (const char* visible = getenv("CUDA_VISIBLE_DEVICES")) saved_visible_ = visible;
    unsetenv("CUDA_VISIBLE_DEVICES");
    setenv("SWITCHYARD_NVML_LIBRARY", (root_ / "no-libnvidia-ml.so.1").c_str(), 1);
  }
  void TearDown() override {
    fs::remove_all(root_);
    unsetenv("SWITCHYARD_NVML_LIBRARY");
    unsetenv("FAKE_NVML_CONFIG");
    if (saved_visible_.has_value()) {
      setenv("CUDA_VISIBLE_DEVICES", saved_visible_->c_str(), 1);
    } else {
      unsetenv("CUDA_VISIBLE_DEVICES");
    }
  }

  // Points the commands at the fake NVML with `config` (see fake_nvml.cc).
  void UseFakeNvml(const std::string& config) {
    std::ofstream(root_ / "nvml.txt") << config;
    setenv("FAKE_NVML_CONFIG", (root_ / "nvml.txt").c_str(), 1);
    setenv("SWITCHYARD_NVML_LIBRARY", FAKE_NVML_FULL, 1);
  }

  // A sim model whose instances need `memory_mb` MiB; `instances` is YAML for the block.
  void AddModel(const std::string& name, int64_t memory_mb, const std::string& instances) {
    fs::create_directories(root_ / name / "1");
    std::ofstream(root_ / name / "config.yaml")
        << "backend: sim\n"
        << "inputs: [{name: in, datatype: FP32, shape: [4]}]\n"
        << "outputs: [{name: out, datatype: FP32, shape: [4]}]\n"
        << "instances: " << instances << "\n"
        << "parameters: {memory_mb: " << memory_mb << "}\n";
  }

  std::string root() const { return root_.string(); }

  fs::path root_;
  std::optional<std::string> saved_visible_;
};

TEST_F(DeviceCommandsTest, PlanPrintsThePlacement) {
  AddModel("resnet", 30000, "{per_device: auto}");
  AddModel("bert", 10000, "{devices: [1], per_device: 2}");
  Result result = RunSwitchyard("plan --model-repository " + root() + " --simulate-gpus 2x80GB");
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(result.err, "");
  EXPECT_THAT(result.out, HasSubstr("placement: 4 instances of 2 models: 4 on 2 GPUs, 0 on CPU"));
  EXPECT_THAT(result.out, HasSubstr("  30000     50896  resnet/0\n"));
  EXPECT_THAT(result.out, HasSubstr("bert/0, bert/1, resnet/1\n"));
  EXPECT_THAT(result.out,
              HasSubstr("resnet          2  30000 estimated  GPU0, GPU1  auto: 1 per GPU, "
                        "its device runs one batch at a time\n"));
}

TEST_F(DeviceCommandsTest, PlanHonoursTheReserve) {
  AddModel("m", 40000, "{per_device: 2}");
  EXPECT_EQ(RunSwitchyard("plan --model-repository " + root() + " --simulate-gpus 80GB").code, 0);
  Result result = RunSwitchyard("plan --model-repository " + root() +
                                " --simulate-gpus 80GB --vram-reserve-mb 2048");
  EXPECT_EQ(result.code, 1);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err,
            "switchyard plan: cannot place model 'm': needs 2 x 40000 MiB (estimated) on each of "
            "1 GPU; "
            "free: GPU0 79872 MiB (reserve 2048 MiB each)\n");
}

TEST_F(DeviceCommandsTest, PlanWithoutGpusRunsEverythingOnCpu) {
  AddModel("m", 40000, "{per_device: 2}");
  Result result = RunSwitchyard("plan --model-repository " + root());
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("placement: 2 instances of 1 model, all on CPU (no GPUs)\n"));
  EXPECT_THAT(result.out,
              HasSubstr("m              2         -  CPU x2  no GPUs: on CPU, per_device: 2\n"));
}

TEST_F(DeviceCommandsTest, PlanReportsBadInput) {
  AddModel("m", 1, "{devices: [3]}");
  Result bad_index = RunSwitchyard("plan --model-repository " + root() + " --simulate-gpus 2x80GB");
  EXPECT_EQ(bad_index.code, 1);
  EXPECT_EQ(bad_index.err, "switchyard plan: model 'm': device 3 does not exist; available: 0-1\n");
  Result bad_spec = RunSwitchyard("plan --model-repository " + root() + " --simulate-gpus 80XB");
  EXPECT_EQ(bad_spec.code, 1);
  EXPECT_THAT(bad_spec.err, HasSubstr("switchyard plan: simulated GPU spec item '80XB'"));
  Result no_repository = RunSwitchyard("plan --model-repository " + root() + "/missing");
  EXPECT_EQ(no_repository.code, 1);
  EXPECT_THAT(no_repository.err, HasSubstr("switchyard plan: "));
  EXPECT_NE(RunSwitchyard("plan --simulate-gpus 80GB").code, 0);  // --model-repository is required
  EXPECT_NE(RunSwitchyard("plan --model-repository " + root() + " --vram-reserve-mb -1").code, 0);
}

TEST_F(DeviceCommandsTest, DevicesListsTheGpus) {
  Result result = RunSwitchyard("devices --simulate-gpus 80GB,40GB:speed=0.5:used=4096");
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(result.out,
            "GPU  uuid       name                    total MiB  others MiB  reserve MiB  free MiB  "
            "speed\n"
            "  0  SIM-GPU-0  simulated GPU (80 GiB)      81920           0         1024     80896  "
            "    1\n"
            "  1  SIM-GPU-1  simulated GPU (40 GiB)      40960        4096         1024     35840  "
            "  0.5\n");
}

TEST_F(DeviceCommandsTest, DevicesWithARepositoryShowsThePlan) {
  AddModel("a", 30000, "{per_device: auto}");
  AddModel("pre", 0, "{devices: cpu, per_device: 3}");
  Result result = RunSwitchyard(
      "devices --simulate-gpus 2x80GB --vram-reserve-mb 0 --model-repository " + root());
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("reserve MiB  free MiB  speed  planned MiB  instances\n"));
  EXPECT_THAT(result.out, HasSubstr("  0     81920      1        30000  a/0\n"));
  EXPECT_THAT(result.out, HasSubstr("  0     81920      1        30000  a/1\n"));
  EXPECT_THAT(result.out, HasSubstr("CPU: 3 instances\n"));
}

TEST_F(DeviceCommandsTest, DevicesWithoutGpusSaysSo) {
  Result result = RunSwitchyard("devices");
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_THAT(result.out,
              HasSubstr("no GPUs: NVML not found (" + root() + "/no-libnvidia-ml.so.1: "));
  EXPECT_THAT(result.out, HasSubstr(": every model runs on CPU instances"));
  EXPECT_THAT(result.out, Not(HasSubstr("SIM-GPU")));
  Result simulated_none = RunSwitchyard(std::vector<std::string>{"devices", "--simulate-gpus", ""});
  EXPECT_EQ(simulated_none.code, 0) << simulated_none.err;
  EXPECT_THAT(simulated_none.out, testing::StartsWith("no GPUs: every model runs on CPU"));
}

TEST_F(DeviceCommandsTest, DevicesShowsBothNumberingsAndTelemetry) {
  UseFakeNvml(R"(
device
uuid GPU-aaaaaaaa-1111-2222-3333-444444444444
name NVIDIA H100 80GB HBM3
memory_total_mb 81559
memory_used_mb 600
utilization 37 12
temperature 45
power_mw 123456
throttle 0x5
device
uuid GPU-bbbbbbbb-1111-2222-3333-444444444444
name NVIDIA H100 80GB HBM3
memory_total_mb 81559
ecc_uncorrected 1
)");
  setenv("CUDA_VISIBLE_DEVICES", "GPU-bb,0", 1);
  Result result = RunSwitchyard("devices");
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(
      result.out,
      "GPU  NVML  uuid                                      name                   total MiB  "
      "others MiB  reserve MiB  free MiB  speed\n"
      "  0     1  GPU-bbbbbbbb-1111-2222-3333-444444444444  NVIDIA H100 80GB HBM3      81559  "
      "         0         1024     80535      1\n"
      "  1     0  GPU-aaaaaaaa-1111-2222-3333-444444444444  NVIDIA H100 80GB HBM3      81559  "
      "       600         1024     79935      1\n"
      "\n"
      "GPU  util  mem util  used MiB  temp C  power W  throttle           health\n"
      "  0    0%        0%         0      30     50.0  none               degraded\n"
      "  1   37%       12%       600      45    123.5  idle,sw_power_cap  healthy\n"
      "GPU 0 degraded: 1 uncorrected ECC error since the driver loaded\n");
}

TEST_F(DeviceCommandsTest, DevicesReportsABadCudaVisibleDevices) {
  UseFakeNvml("device\n");
  setenv("CUDA_VISIBLE_DEVICES", "0,1", 1);
  Result result = RunSwitchyard("devices");
  EXPECT_EQ(result.code, 1);
  EXPECT_EQ(result.err,
            "switchyard devices: CUDA_VISIBLE_DEVICES entry '1': no GPU has this index (this "
            "machine has 1 GPU: 0)\n");
}

TEST_F(DeviceCommandsTest, GpusPicksAmongTheSimulatedGpusInItsOrder) {
  Result result = RunSwitchyard("devices --simulate-gpus 80GB,40GB,20GB --gpus 2,0");
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(result.out,
            "GPU  uuid       name                    total MiB  others MiB  reserve MiB  free MiB  "
            "speed\n"
            "  0  SIM-GPU-2  simulated GPU (20 GiB)      20480           0         1024     19456  "
            "    1\n"
            "  1  SIM-GPU-0  simulated GPU (80 GiB)      81920           0         1024     80896  "
            "    1\n");
  Result bad = RunSwitchyard("devices --simulate-gpus 2x80GB --gpus 3");
  EXPECT_EQ(bad.code, 1);
  EXPECT_EQ(bad.err,
            "switchyard devices: --gpus entry '3': no GPU has this index (this machine has 2 "
            "GPUs: 0-1)\n");
}

TEST_F(DeviceCommandsTest, GpusReplacesCudaVisibleDevicesForTheMachinesGpus) {
  UseFakeNvml(
      "device\nuuid GPU-aaaaaaaa-1111-2222-3333-444444444444\nmemory_total_mb 81920\n"
      "device\nuuid GPU-bbbbbbbb-1111-2222-3333-444444444444\nmemory_total_mb 40960\n");
  setenv("CUDA_VISIBLE_DEVICES", "0", 1);
  Result result = RunSwitchyard("devices --gpus GPU-bb");
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("  0     1  GPU-bbbbbbbb-1111-2222-3333-444444444444"));
  EXPECT_THAT(result.out, Not(HasSubstr("GPU-aaaaaaaa")));
  Result bad = RunSwitchyard("devices --gpus 5");
  EXPECT_EQ(bad.code, 1);
  EXPECT_THAT(bad.err, HasSubstr("--gpus entry '5': no GPU has this index"));
}

TEST_F(DeviceCommandsTest, PlanUsesTheNvmlGpus) {
  UseFakeNvml("device\nmemory_total_mb 81920\ndevice\nmemory_total_mb 40960\n");
  setenv("CUDA_VISIBLE_DEVICES", "1", 1);
  AddModel("m", 30000, "{per_device: auto}");
  Result result = RunSwitchyard("plan --model-repository " + root());
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("placement: 1 instance of 1 model: 1 on 1 GPU, 0 on CPU"));
}

TEST_F(DeviceCommandsTest, DevicesReportsAPlacementFailure) {
  AddModel("big", 90000, "{per_device: auto}");
  Result result = RunSwitchyard("devices --simulate-gpus 80GB --model-repository " + root());
  EXPECT_EQ(result.code, 1);
  EXPECT_EQ(result.out, "");
  EXPECT_THAT(result.err, HasSubstr("switchyard devices: cannot place model 'big'"));
}

}  // namespace
}  // namespace switchyard
