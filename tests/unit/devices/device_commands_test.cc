// `switchyard plan` and `switchyard devices`, parsed by CLI11 as main parses them.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

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

// Runs `switchyard <args>` with the plan and devices commands registered.
Result RunSwitchyard(const std::string& args) {
  CLI::App app;
  app.require_subcommand(1);
  cli::AddPlanCommand(app);
  cli::AddDevicesCommand(app);
  Result result;
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  try {
    app.parse(args);
  } catch (const CLI::ParseError& error) {  // CLI::RuntimeError too: the command's exit code
    result.code = error.get_exit_code();
  }
  result.out = testing::internal::GetCapturedStdout();
  result.err = testing::internal::GetCapturedStderr();
  return result;
}

class DeviceCommandsTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "switchyard_plan_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
  }
  void TearDown() override { fs::remove_all(root_); }

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
};

TEST_F(DeviceCommandsTest, PlanPrintsThePlacement) {
  AddModel("resnet", 30000, "{per_device: auto}");
  AddModel("bert", 10000, "{devices: [1], per_device: 2}");
  Result result = RunSwitchyard("plan --model-repository " + root() + " --simulate-gpus 2x80GB");
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(result.err, "");
  EXPECT_THAT(result.out, HasSubstr("placement: 6 instances of 2 models: 6 on 2 GPUs, 0 on CPU"));
  EXPECT_THAT(result.out, HasSubstr("resnet/0, resnet/1\n"));
  EXPECT_THAT(result.out, HasSubstr("bert/0, bert/1, resnet/2, resnet/3\n"));
  EXPECT_THAT(result.out, HasSubstr("resnet          4  GPU0 x2, GPU1 x2\n"));
}

TEST_F(DeviceCommandsTest, PlanHonoursTheReserve) {
  AddModel("m", 40000, "{per_device: 2}");
  EXPECT_EQ(RunSwitchyard("plan --model-repository " + root() + " --simulate-gpus 80GB").code, 0);
  Result result = RunSwitchyard("plan --model-repository " + root() +
                                " --simulate-gpus 80GB --vram-reserve-mb 2048");
  EXPECT_EQ(result.code, 1);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err,
            "switchyard plan: cannot place model 'm': needs 2 x 40000 MiB on each of 1 GPU; "
            "free: GPU0 79872 MiB (reserve 2048 MiB each)\n");
}

TEST_F(DeviceCommandsTest, PlanWithoutGpusRunsEverythingOnCpu) {
  AddModel("m", 40000, "{per_device: 2}");
  Result result = RunSwitchyard("plan --model-repository " + root());
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("placement: 2 instances of 1 model, all on CPU (no GPUs)\n"));
  EXPECT_THAT(result.out, HasSubstr("m              2  CPU x2\n"));
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
  EXPECT_THAT(result.out, HasSubstr("  0     81920      1        60000  a/0, a/1\n"));
  EXPECT_THAT(result.out, HasSubstr("  0     81920      1        60000  a/2, a/3\n"));
  EXPECT_THAT(result.out, HasSubstr("CPU: 3 instances\n"));
}

TEST_F(DeviceCommandsTest, DevicesWithoutGpusSaysSo) {
  Result result = RunSwitchyard("devices");
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("no GPUs"));
  EXPECT_THAT(result.out, Not(HasSubstr("SIM-GPU")));
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
