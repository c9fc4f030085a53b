#include "devices/device_faults.h"

#include <gtest/gtest.h>

namespace switchyard {
namespace {

DeviceTelemetry TwoGpus() {
  DeviceTelemetry telemetry{.sequence = 3};
  telemetry.devices.push_back({.index = 0, .uuid = "GPU-a", .power_watts = 300});
  telemetry.devices.push_back({.index = 1, .uuid = "GPU-b"});
  return telemetry;
}

TEST(DeviceFaultsTest, NoFaultLeavesTheSnapshotAsItIs) {
  DeviceFaults faults;
  DeviceTelemetry out = faults.Overlay(TwoGpus());
  ASSERT_EQ(out.devices.size(), 2u);
  EXPECT_EQ(out.sequence, 3u);
  EXPECT_EQ(out.devices[0].health, GpuHealth::kHealthy);
  EXPECT_EQ(out.devices[1].health, GpuHealth::kHealthy);
  EXPECT_EQ(out.devices[1].health_detail, "");
}

TEST(DeviceFaultsTest, AFaultFailsItsDevicesAndSaysWhoLostThem) {
  DeviceFaults faults;
  EXPECT_TRUE(faults.Lost(1, "bert/2", {1}, "CUDA error: an illegal memory access"));
  DeviceTelemetry out = faults.Overlay(TwoGpus());
  EXPECT_EQ(out.devices[0].health, GpuHealth::kHealthy);
  EXPECT_EQ(out.devices[1].health, GpuHealth::kFailed);
  EXPECT_EQ(out.devices[1].health_detail, "bert/2 lost it: CUDA error: an illegal memory access");
  EXPECT_EQ(FailedDeviceReasons(out, 2)[1],
            "GPU1 failed: bert/2 lost it: CUDA error: an illegal memory access");
  EXPECT_EQ(out.devices[0].power_watts, 300);  // readings are kept
}

TEST(DeviceFaultsTest, FaultsAddToWhatNvmlSaysAndToEachOther) {
  DeviceFaults faults;
  faults.Lost(1, "a/0", {0, 1}, "x");
  faults.Lost(2, "b/0", {1}, "y");
  DeviceTelemetry nvml = TwoGpus();
  nvml.devices[1].health = GpuHealth::kDegraded;
  nvml.devices[1].health_detail = "retired page pending";
  DeviceTelemetry out = faults.Overlay(nvml);
  EXPECT_EQ(out.devices[0].health_detail, "a/0 lost it: x");
  EXPECT_EQ(out.devices[1].health, GpuHealth::kFailed);
  EXPECT_EQ(out.devices[1].health_detail, "retired page pending; a/0 lost it: x; b/0 lost it: y");
}

TEST(DeviceFaultsTest, RecoveryClearsOnlyThatInstancesFault) {
  DeviceFaults faults;
  faults.Lost(1, "a/0", {1}, "x");
  faults.Lost(1, "a/1", {1}, "y");
  EXPECT_TRUE(faults.Recovered(1, "a/0"));
  EXPECT_FALSE(faults.Recovered(1, "a/0"));
  EXPECT_FALSE(faults.Recovered(2, "a/1"));  // another load's instance of the same name
  DeviceTelemetry out = faults.Overlay(TwoGpus());
  EXPECT_EQ(out.devices[1].health, GpuHealth::kFailed);
  EXPECT_EQ(out.devices[1].health_detail, "a/1 lost it: y");
  EXPECT_TRUE(faults.Recovered(1, "a/1"));
  EXPECT_EQ(faults.Overlay(TwoGpus()).devices[1].health, GpuHealth::kHealthy);
}

TEST(DeviceFaultsTest, ARetiredLoadsFaultsGoAndItsLaterReportsAreIgnored) {
  DeviceFaults faults;
  faults.Lost(1, "a/0", {0}, "x");
  faults.Lost(2, "b/0", {1}, "y");
  faults.Retire(1);
  EXPECT_FALSE(faults.Lost(1, "a/0", {0}, "again, while it ends"));
  DeviceTelemetry out = faults.Overlay(TwoGpus());
  EXPECT_EQ(out.devices[0].health, GpuHealth::kHealthy);
  EXPECT_EQ(out.devices[1].health, GpuHealth::kFailed);
}

TEST(DeviceFaultsTest, AFaultedDeviceMissingFromTheSnapshotIsAddedInIndexOrder) {
  DeviceFaults faults;
  faults.Lost(1, "a/0", {1}, "x");
  DeviceTelemetry sparse{.sequence = 0};
  sparse.devices.push_back({.index = 0});
  sparse.devices.push_back({.index = 2});
  DeviceTelemetry out = faults.Overlay(sparse);
  ASSERT_EQ(out.devices.size(), 3u);
  EXPECT_EQ(out.devices[1].index, 1);
  EXPECT_EQ(out.devices[1].health, GpuHealth::kFailed);
  EXPECT_EQ(out.devices[2].index, 2);
}

}  // namespace
}  // namespace switchyard
