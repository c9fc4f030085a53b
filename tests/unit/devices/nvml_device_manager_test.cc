// NvmlDeviceManager against the fake NVML: discovery, CUDA_VISIBLE_DEVICES, telemetry, health and
// gauges. Polls are made with PollOnce, never by waiting for the poller.

#include "devices/nvml_device_manager.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "devices/nvml_testing.h"
#include "metrics/metrics.h"

namespace switchyard {
namespace {

using testing::ElementsAre;
using testing::HasSubstr;
using testing::IsEmpty;
using testing::StartsWith;
using testing_nvml::FakeNvmlTest;

class NvmlDeviceManagerTest : public FakeNvmlTest {
 protected:
  std::unique_ptr<NvmlDeviceManager> Open(std::optional<std::string> visible = std::nullopt,
                                          NvmlOptions options = {}) {
    if (options.library_path.empty()) options.library_path = testing_nvml::kFullLibrary;
    auto manager = NvmlDeviceManager::Open(std::move(visible), std::move(options));
    EXPECT_TRUE(manager.ok()) << manager.status().ToString();
    return manager.ok() ? std::move(manager).value() : nullptr;
  }

  // The server indices' physical indices.
  static std::vector<int> Physical(const NvmlDeviceManager& manager) {
    std::vector<int> physical;
    for (const Device& device : manager.Devices()) physical.push_back(device.physical_index);
    return physical;
  }
};

TEST_F(NvmlDeviceManagerTest, DiscoversEveryGpu) {
  auto manager = Open();
  ASSERT_NE(manager, nullptr);
  EXPECT_EQ(manager->reason(), "");
  std::vector<Device> devices = manager->Devices();
  ASSERT_EQ(devices.size(), 3u);
  EXPECT_EQ(devices[0].index, 0);
  EXPECT_EQ(devices[0].physical_index, 0);
  EXPECT_EQ(devices[0].uuid, "GPU-aaaaaaaa-1111-2222-3333-444444444444");
  EXPECT_EQ(devices[0].name, "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(devices[0].pci_bus_id, "00000000:19:00.0");
  EXPECT_EQ(devices[0].total_mb, 81559);
  EXPECT_EQ(devices[0].used_by_others_mb, 600);
  EXPECT_EQ(devices[0].speed, 1.0);
  EXPECT_FALSE(devices[0].simulated);
  EXPECT_EQ(devices[2].index, 2);
  EXPECT_EQ(devices[2].name, "NVIDIA L4");
  EXPECT_EQ(devices[2].total_mb, 23034);
  EXPECT_EQ(devices[2].used_by_others_mb, 1);
}

TEST_F(NvmlDeviceManagerTest, NumbersTheVisibleGpusInTheGivenOrder) {
  EXPECT_THAT(Physical(*Open("2,0")), ElementsAre(2, 0));
  EXPECT_THAT(Physical(*Open("GPU-bbbbbbbb-1111-2222-3333-444444444444")), ElementsAre(1));
  EXPECT_THAT(Physical(*Open("GPU-ab,GPU-aa")), ElementsAre(2, 0));
  EXPECT_THAT(Physical(*Open("1,-1,0")), ElementsAre(1));

  auto reordered = Open("2,0");
  std::vector<Device> devices = reordered->Devices();
  ASSERT_EQ(devices.size(), 2u);
  EXPECT_EQ(devices[0].index, 0);
  EXPECT_EQ(devices[0].uuid, "GPU-abcdef01-1111-2222-3333-444444444444");
  EXPECT_EQ(devices[1].index, 1);
  EXPECT_EQ(devices[1].uuid, "GPU-aaaaaaaa-1111-2222-3333-444444444444");
  // Telemetry follows the server's numbering.
  auto telemetry = reordered->Telemetry();
  ASSERT_EQ(telemetry->devices.size(), 2u);
  EXPECT_EQ(telemetry->devices[0].uuid, "GPU-abcdef01-1111-2222-3333-444444444444");
  EXPECT_EQ(telemetry->devices[1].index, 1);
  EXPECT_EQ(telemetry->devices[1].power_watts, 123.456);
}

TEST_F(NvmlDeviceManagerTest, AnInvalidCudaVisibleDevicesIsAnError) {
  auto bad_index = NvmlDeviceManager::Open("0,5", {.library_path = testing_nvml::kFullLibrary});
  ASSERT_FALSE(bad_index.ok());
  EXPECT_EQ(bad_index.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_index.status().message(), HasSubstr("entry '5': no GPU has this index"));
  auto ambiguous = NvmlDeviceManager::Open("GPU-a", {.library_path = testing_nvml::kFullLibrary});
  ASSERT_FALSE(ambiguous.ok());
  EXPECT_THAT(ambiguous.status().message(), HasSubstr("matches 2 GPUs"));
  EXPECT_EQ(LiveInits(), 0);  // NVML was shut down again
}

TEST_F(NvmlDeviceManagerTest, HidingEveryGpuLeavesAReason) {
  auto manager = Open("-1");
  EXPECT_THAT(manager->Devices(), IsEmpty());
  EXPECT_EQ(manager->reason(), "CUDA_VISIBLE_DEVICES hides every GPU (value '-1')");
  EXPECT_THAT(Open("")->reason(), HasSubstr("hides every GPU"));
  WriteConfig("");
  EXPECT_EQ(Open()->reason(), "NVML reports no GPU");
}

TEST_F(NvmlDeviceManagerTest, WithoutNvmlThereAreNoGpusAndAReason) {
  auto manager = Open(std::nullopt, {.library_path = dir() + "/libnvidia-ml.so.1"});
  ASSERT_NE(manager, nullptr);
  EXPECT_THAT(manager->Devices(), IsEmpty());
  EXPECT_THAT(manager->reason(), StartsWith("NVML not found (" + dir() + "/libnvidia-ml.so.1: "));
  EXPECT_THAT(manager->Telemetry()->devices, IsEmpty());
  EXPECT_THAT(manager->PollOnce()->devices, IsEmpty());
  // CUDA_VISIBLE_DEVICES cannot be checked without NVML: still no error.
  EXPECT_TRUE(NvmlDeviceManager::Open("7", {.library_path = dir() + "/none.so"}).ok());
}

TEST_F(NvmlDeviceManagerTest, TheLibraryComesFromTheEnvironmentByDefault) {
  setenv("SWITCHYARD_NVML_LIBRARY", testing_nvml::kFullLibrary.c_str(), 1);
  auto manager = NvmlDeviceManager::Open(std::nullopt);
  ASSERT_TRUE(manager.ok());
  EXPECT_EQ((*manager)->Devices().size(), 3u);
  setenv("SWITCHYARD_NVML_LIBRARY", (dir() + "/missing.so").c_str(), 1);
  manager = NvmlDeviceManager::Open(std::nullopt);
  ASSERT_TRUE(manager.ok());
  EXPECT_THAT((*manager)->reason(), HasSubstr("missing.so"));
}

TEST_F(NvmlDeviceManagerTest, DriverFailuresLeaveAReason) {
  WriteConfig("init_error 9\n");
  EXPECT_EQ(Open()->reason(), "NVML initialisation failed: Driver Not Loaded (NVML error 9)");
  WriteConfig("error nvmlDeviceGetCount_v2 999\n");
  EXPECT_EQ(Open()->reason(), "NVML cannot count the GPUs: Unknown Error (NVML error 999)");
  WriteConfig(std::string(testing_nvml::kThreeGpus) + "error nvmlDeviceGetUUID 15\n");
  EXPECT_EQ(Open()->reason(), "NVML cannot read the UUID of GPU 2: GPU is lost (NVML error 15)");
  EXPECT_EQ(LiveInits(), 0);
  auto broken = Open(std::nullopt, {.library_path = testing_nvml::kBrokenLibrary});
  EXPECT_THAT(broken->reason(), StartsWith("NVML lacks nvmlDeviceGetMemoryInfo"));
}

TEST_F(NvmlDeviceManagerTest, TelemetryHasEveryReading) {
  auto manager = Open();
  auto first = manager->Telemetry();
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->sequence, 0u);
  ASSERT_EQ(first->devices.size(), 3u);
  const GpuTelemetry& gpu = first->devices[0];
  EXPECT_EQ(gpu.index, 0);
  EXPECT_EQ(gpu.uuid, "GPU-aaaaaaaa-1111-2222-3333-444444444444");
  EXPECT_EQ(gpu.utilization_ratio, 0.37);
  EXPECT_EQ(gpu.memory_utilization_ratio, 0.12);
  EXPECT_EQ(gpu.memory_total_bytes, 81559ull << 20);
  EXPECT_EQ(gpu.memory_used_bytes, 600ull << 20);
  EXPECT_EQ(gpu.memory_free_bytes, (81559ull - 600) << 20);
  EXPECT_EQ(gpu.temperature_celsius, 45.0);
  EXPECT_EQ(gpu.power_watts, 123.456);
  EXPECT_EQ(gpu.throttle_reasons, 0x5u);
  EXPECT_EQ(ThrottleReasonNames(*gpu.throttle_reasons), "idle,sw_power_cap");
  EXPECT_EQ(gpu.ecc_uncorrected_volatile, 0u);
  EXPECT_EQ(gpu.health, GpuHealth::kHealthy);
  EXPECT_EQ(gpu.health_detail, "");
}

TEST_F(NvmlDeviceManagerTest, EachPollPublishesANewSnapshot) {
  auto manager = Open("1");
  auto before = manager->Telemetry();
  EXPECT_EQ(before->devices[0].memory_used_bytes, 0u);
  WriteConfig(R"(
device
uuid GPU-aaaaaaaa-1111-2222-3333-444444444444
device
uuid GPU-bbbbbbbb-1111-2222-3333-444444444444
memory_total_mb 81559
memory_used_mb 40000
utilization 100 50
)");
  Reload();
  auto after = manager->PollOnce();
  EXPECT_EQ(after->sequence, 1u);
  EXPECT_EQ(manager->Telemetry(), after);
  EXPECT_EQ(after->devices[0].memory_used_bytes, 40000ull << 20);
  EXPECT_EQ(after->devices[0].utilization_ratio, 1.0);
  // The old snapshot is unchanged for whoever still holds it; the devices' startup memory too.
  EXPECT_EQ(before->devices[0].memory_used_bytes, 0u);
  EXPECT_EQ(manager->Devices()[0].used_by_others_mb, 0);
  EXPECT_EQ(manager->PollOnce()->sequence, 2u);
}

TEST_F(NvmlDeviceManagerTest, HealthFollowsNvmlsErrorConditions) {
  WriteConfig(R"(
device
device
ecc_uncorrected 2
retired_pending 1
device
remapped_rows 0 1 1 1
device
error nvmlDeviceGetPowerUsage 3
error nvmlDeviceGetTemperature 999
device
)");
  auto manager = Open();
  ASSERT_EQ(manager->Devices().size(), 5u);
  auto telemetry = manager->Telemetry();
  EXPECT_EQ(telemetry->devices[0].health, GpuHealth::kHealthy);
  EXPECT_EQ(telemetry->devices[1].health, GpuHealth::kDegraded);
  EXPECT_EQ(telemetry->devices[1].ecc_uncorrected_volatile, 2u);
  EXPECT_EQ(telemetry->devices[1].health_detail,
            "2 uncorrected ECC errors since the driver loaded; page retirement pending (takes "
            "effect at the next GPU reset)");
  EXPECT_EQ(telemetry->devices[2].health, GpuHealth::kFailed);
  EXPECT_EQ(telemetry->devices[2].health_detail,
            "row remapping failed; row remapping pending (takes effect at the next GPU reset)");
  // Not supported: simply absent. Another error: degraded.
  EXPECT_EQ(telemetry->devices[3].power_watts, std::nullopt);
  EXPECT_EQ(telemetry->devices[3].health, GpuHealth::kDegraded);
  EXPECT_EQ(telemetry->devices[3].health_detail,
            "reading temperature failed: Unknown Error (NVML error 999)");
  EXPECT_STREQ(GpuHealthName(telemetry->devices[3].health), "degraded");
  EXPECT_EQ(telemetry->devices[4].health, GpuHealth::kHealthy);

  // The last GPU falls off the bus after startup; the others recover.
  WriteConfig(R"(
device
device
device
device
device
error nvmlDeviceGetMemoryInfo 15
error nvmlDeviceGetUtilizationRates 15
)");
  Reload();
  auto lost = manager->PollOnce();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(lost->devices[i].health, GpuHealth::kHealthy) << i;
  EXPECT_EQ(lost->devices[4].health, GpuHealth::kFailed);
  EXPECT_EQ(lost->devices[4].health_detail, "GPU is lost (fell off the bus or stopped answering)");
  EXPECT_EQ(lost->devices[4].memory_used_bytes, std::nullopt);
  EXPECT_EQ(lost->devices[4].temperature_celsius, std::nullopt);  // not read once lost
  EXPECT_EQ(manager->Devices()[4].total_mb, 1024);                // fixed at startup
}

TEST_F(NvmlDeviceManagerTest, MissingOptionalFunctionsLeaveReadingsAbsent) {
  auto manager = Open(std::nullopt, {.library_path = testing_nvml::kMinimalLibrary});
  ASSERT_EQ(manager->Devices().size(), 3u);
  EXPECT_EQ(manager->Devices()[0].pci_bus_id, "");
  EXPECT_EQ(manager->Devices()[0].total_mb, 81559);
  const GpuTelemetry& gpu = manager->PollOnce()->devices[0];
  EXPECT_EQ(gpu.memory_used_bytes, 600ull << 20);
  EXPECT_EQ(gpu.utilization_ratio, std::nullopt);
  EXPECT_EQ(gpu.temperature_celsius, std::nullopt);
  EXPECT_EQ(gpu.power_watts, std::nullopt);
  EXPECT_EQ(gpu.throttle_reasons, std::nullopt);
  EXPECT_EQ(gpu.ecc_uncorrected_volatile, std::nullopt);
  EXPECT_EQ(gpu.health, GpuHealth::kHealthy);
}

TEST_F(NvmlDeviceManagerTest, ProcessMemoryIsWhatNvmlCountsForThatPid) {
  std::string config =
      "device\nuuid GPU-1\nname A\nmemory_total_mb 1000\n"
      "process 77 5\nprocess self 1234\n"
      "device\nuuid GPU-2\nname B\nmemory_total_mb 1000\n";
  // More processes than the first query has room for: the manager asks again.
  for (int pid = 1000; pid < 1040; ++pid) config += "process " + std::to_string(pid) + " 1\n";
  config += "process self 42\n";
  WriteConfig(config);
  auto manager = Open();
  ASSERT_EQ(manager->Devices().size(), 2u);
  EXPECT_EQ(manager->ProcessMemoryBytes(0, {getpid()}), 1234ull << 20);
  EXPECT_EQ(manager->ProcessMemoryBytes(0, {77}), 5ull << 20);
  EXPECT_EQ(manager->ProcessMemoryBytes(0, {424242}), std::nullopt);  // not listed
  EXPECT_EQ(manager->ProcessMemoryBytes(1, {getpid()}), 42ull << 20);
  // Several processes (a worker and the program it started): what they hold together.
  EXPECT_EQ(manager->ProcessMemoryBytes(0, {getpid(), 424242, 77}), (1234ull + 5) << 20);

  // A library without the function cannot tell.
  auto minimal = Open(std::nullopt, {.library_path = testing_nvml::kMinimalLibrary});
  EXPECT_EQ(minimal->ProcessMemoryBytes(0, {getpid()}), std::nullopt);
}

TEST_F(NvmlDeviceManagerTest, PollsExportGaugesByUuid) {
  metrics::Registry registry;
  auto manager = Open("1,0", {.registry = &registry});
  EXPECT_EQ(registry.ExpositionText().find("switchyard_gpu_"), std::string::npos);  // not yet
  manager->PollOnce();
  const std::string text = registry.ExpositionText();
  EXPECT_THAT(text, HasSubstr("switchyard_gpu_utilization_ratio{device=\"GPU1\",uuid=\"GPU-"
                              "aaaaaaaa-1111-2222-3333-444444444444\"} 0.37\n"));
  EXPECT_THAT(text, HasSubstr("switchyard_gpu_utilization_ratio{device=\"GPU0\",uuid=\"GPU-"
                              "bbbbbbbb-1111-2222-3333-444444444444\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("switchyard_gpu_memory_used_bytes{device=\"GPU1\",uuid=\"GPU-"
                              "aaaaaaaa-1111-2222-3333-444444444444\"} 629145600\n"));
  EXPECT_THAT(text, HasSubstr("switchyard_gpu_memory_total_bytes{device=\"GPU1\",uuid=\"GPU-"
                              "aaaaaaaa-1111-2222-3333-444444444444\"} 85520809984\n"));
  EXPECT_THAT(text, HasSubstr("switchyard_gpu_power_watts{device=\"GPU1\",uuid=\"GPU-"
                              "aaaaaaaa-1111-2222-3333-444444444444\"} 123.456\n"));
  EXPECT_THAT(text, HasSubstr("switchyard_gpu_temperature_celsius{device=\"GPU1\",uuid=\"GPU-"
                              "aaaaaaaa-1111-2222-3333-444444444444\"} 45\n"));
  EXPECT_THAT(text, HasSubstr("switchyard_gpu_healthy{device=\"GPU0\",uuid=\"GPU-"
                              "bbbbbbbb-1111-2222-3333-444444444444\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE switchyard_gpu_power_watts gauge\n"));
}

TEST_F(NvmlDeviceManagerTest, AbsentReadingsCreateNoGauge) {
  metrics::Registry registry;
  auto manager =
      Open(std::nullopt, {.library_path = testing_nvml::kMinimalLibrary, .registry = &registry});
  manager->PollOnce();
  const std::string text = registry.ExpositionText();
  EXPECT_THAT(text, HasSubstr("switchyard_gpu_memory_used_bytes{"));
  EXPECT_EQ(text.find("switchyard_gpu_power_watts"), std::string::npos);
  EXPECT_EQ(text.find("switchyard_gpu_utilization_ratio"), std::string::npos);
}

TEST_F(NvmlDeviceManagerTest, OnPollSeesEverySnapshotStampedByTheClock) {
  FakeClock clock;
  std::vector<uint64_t> seen;
  auto manager = Open(std::nullopt, {.on_poll =
                                         [&](const std::shared_ptr<const DeviceTelemetry>& t) {
                                           seen.push_back(t->sequence);
                                         },
                                     .clock = &clock});
  EXPECT_EQ(manager->Telemetry()->taken_at, clock.Now());
  clock.Advance(std::chrono::seconds(1));
  manager->PollOnce();
  manager->PollOnce();
  EXPECT_THAT(seen, ElementsAre(1, 2));
  EXPECT_EQ(manager->Telemetry()->taken_at, clock.Now());
}

TEST_F(NvmlDeviceManagerTest, StartAndStopPolling) {
  metrics::Registry registry;
  auto manager =
      Open(std::nullopt, {.poll_interval = std::chrono::hours(1), .registry = &registry});
  manager->StopPolling();  // not running: no effect
  manager->StartPolling();
  manager->StartPolling();  // running: no effect
  manager->StopPolling();   // wakes the poller from its hour-long wait and joins it
  manager->StartPolling();
  // The destructor stops it too; NVML is shut down after that.
  manager.reset();
  EXPECT_EQ(LiveInits(), 0);
}

TEST_F(NvmlDeviceManagerTest, PollsFromThePollerAndCallersDoNotOverlap) {
  metrics::Registry registry;
  std::atomic<int> calls{0};
  std::atomic<uint64_t> last{0};
  auto manager =
      Open(std::nullopt, {.poll_interval = std::chrono::hours(1),
                          .registry = &registry,
                          .on_poll = [&](const std::shared_ptr<const DeviceTelemetry>& telemetry) {
                            // Polls are serialised: each sees the sequence after the previous one.
                            EXPECT_EQ(telemetry->sequence, last.exchange(telemetry->sequence) + 1);
                            calls.fetch_add(1);
                          }});
  manager->StartPolling();  // polls once at once, then waits an hour
  std::thread reader([&] {
    for (int i = 0; i < 50; ++i) EXPECT_EQ(manager->Telemetry()->devices.size(), 3u);
  });
  for (int i = 0; i < 50; ++i) manager->PollOnce();
  reader.join();
  manager->StopPolling();
  // 50 polls here and at least the poller's first one.
  EXPECT_GE(manager->Telemetry()->sequence, 51u);
  EXPECT_EQ(static_cast<uint64_t>(calls.load()), manager->Telemetry()->sequence);
}

TEST_F(NvmlDeviceManagerTest, RejectsANonPositivePollInterval) {
  auto manager = NvmlDeviceManager::Open(
      std::nullopt, {.library_path = testing_nvml::kFullLibrary, .poll_interval = Duration(0)});
  ASSERT_FALSE(manager.ok());
  EXPECT_EQ(manager.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace switchyard
