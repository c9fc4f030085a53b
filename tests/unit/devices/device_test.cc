#include "devices/device.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "devices/device_telemetry.h"

namespace switchyard {
namespace {

using testing::HasSubstr;

// The error message of parsing `spec`, which must fail with INVALID_ARGUMENT.
std::string ParseError(const std::string& spec) {
  auto devices = ParseSimulatedGpus(spec);
  EXPECT_FALSE(devices.ok()) << spec;
  EXPECT_EQ(devices.status().code(), StatusCode::kInvalidArgument) << spec;
  return devices.status().message();
}

TEST(ParseSimulatedGpusTest, EmptySpecMeansNoGpus) {
  for (const char* spec : {"", "  "}) {
    auto devices = ParseSimulatedGpus(spec);
    ASSERT_TRUE(devices.ok()) << devices.status().ToString();
    EXPECT_TRUE(devices->empty());
  }
}

TEST(ParseSimulatedGpusTest, RepeatedItemMakesIdenticalNumberedDevices) {
  auto devices = ParseSimulatedGpus("4x80GB");
  ASSERT_TRUE(devices.ok()) << devices.status().ToString();
  ASSERT_EQ(devices->size(), 4u);
  for (int i = 0; i < 4; ++i) {
    const Device& device = (*devices)[i];
    EXPECT_EQ(device.index, i);
    EXPECT_EQ(device.uuid, "SIM-GPU-" + std::to_string(i));
    EXPECT_EQ(device.name, "simulated GPU (80 GiB)");
    EXPECT_EQ(device.total_mb, 80 * 1024);
    EXPECT_EQ(device.used_by_others_mb, 0);
    EXPECT_EQ(device.speed, 1.0);
    EXPECT_TRUE(device.simulated);
  }
}

TEST(ParseSimulatedGpusTest, CommaListWithKeys) {
  auto devices = ParseSimulatedGpus("80GB,80GB,40GB:speed=0.5");
  ASSERT_TRUE(devices.ok()) << devices.status().ToString();
  ASSERT_EQ(devices->size(), 3u);
  EXPECT_EQ((*devices)[0].total_mb, 81920);
  EXPECT_EQ((*devices)[1].speed, 1.0);
  EXPECT_EQ((*devices)[2].index, 2);
  EXPECT_EQ((*devices)[2].uuid, "SIM-GPU-2");
  EXPECT_EQ((*devices)[2].total_mb, 40960);
  EXPECT_EQ((*devices)[2].speed, 0.5);
}

TEST(ParseSimulatedGpusTest, UnitsAreCaseInsensitiveAndMbIsMib) {
  auto devices = ParseSimulatedGpus("1gb,2Gb,512mb,3000MB");
  ASSERT_TRUE(devices.ok()) << devices.status().ToString();
  ASSERT_EQ(devices->size(), 4u);
  EXPECT_EQ((*devices)[0].total_mb, 1024);
  EXPECT_EQ((*devices)[1].total_mb, 2048);
  EXPECT_EQ((*devices)[2].total_mb, 512);
  EXPECT_EQ((*devices)[3].total_mb, 3000);
  EXPECT_EQ((*devices)[3].name, "simulated GPU (3000 MiB)");
}

TEST(ParseSimulatedGpusTest, UsedAndSpeedTogetherWithSpacesAndCounts) {
  auto devices = ParseSimulatedGpus(" 2x24GB:used=2048:speed=2 , 3X1GB : speed = 100 ");
  ASSERT_TRUE(devices.ok()) << devices.status().ToString();
  ASSERT_EQ(devices->size(), 5u);
  EXPECT_EQ((*devices)[1].used_by_others_mb, 2048);
  EXPECT_EQ((*devices)[1].speed, 2.0);
  EXPECT_EQ((*devices)[2].total_mb, 1024);
  EXPECT_EQ((*devices)[4].index, 4);
  EXPECT_EQ((*devices)[4].speed, 100.0);
  EXPECT_EQ((*devices)[4].used_by_others_mb, 0);
}

TEST(ParseSimulatedGpusTest, SixtyFourDevicesAreTheLimit) {
  auto devices = ParseSimulatedGpus("32x1GB,32x2GB");
  ASSERT_TRUE(devices.ok()) << devices.status().ToString();
  EXPECT_EQ(devices->size(), 64u);
  EXPECT_EQ(devices->back().uuid, "SIM-GPU-63");
  EXPECT_THAT(ParseError("32x1GB,32x2GB,1GB"), HasSubstr("more than 64 simulated GPUs"));
  EXPECT_THAT(ParseError("65x1GB"), HasSubstr("'65x1GB'"));
  EXPECT_THAT(ParseError("99999999999999999999x1GB"), HasSubstr("count"));
}

TEST(ParseSimulatedGpusTest, RejectsBadSizesNamingTheItem) {
  EXPECT_THAT(ParseError("80"), HasSubstr("item '80': expected a size such as 80GB"));
  EXPECT_THAT(ParseError("80GiB"), HasSubstr("item '80GiB'"));
  EXPECT_THAT(ParseError("80TB"), HasSubstr("item '80TB'"));
  EXPECT_THAT(ParseError("0GB"), HasSubstr("item '0GB'"));
  EXPECT_THAT(ParseError("-8GB"), HasSubstr("item '-8GB'"));
  EXPECT_THAT(ParseError("GB"), HasSubstr("item 'GB'"));
  EXPECT_THAT(ParseError("8.5GB"), HasSubstr("item '8.5GB'"));
  EXPECT_THAT(ParseError("1048577GB"), HasSubstr("at most 1048576 GB"));
  EXPECT_TRUE(ParseSimulatedGpus("1048576GB").ok());
  EXPECT_THAT(ParseError("80GB,40"), HasSubstr("item '40'"));
}

TEST(ParseSimulatedGpusTest, RejectsBadCounts) {
  EXPECT_THAT(ParseError("0x80GB"), HasSubstr("item '0x80GB': expected a count >= 1"));
  EXPECT_THAT(ParseError("x80GB"), HasSubstr("item 'x80GB': expected a count"));
  EXPECT_THAT(ParseError("ax80GB"), HasSubstr("item 'ax80GB'"));
  EXPECT_THAT(ParseError("4x"), HasSubstr("item '4x': expected a size"));
  EXPECT_THAT(ParseError("2x2x80GB"), HasSubstr("item '2x2x80GB'"));
}

TEST(ParseSimulatedGpusTest, RejectsEmptyItems) {
  for (const char* spec : {",", "80GB,", ",80GB", "80GB,,80GB", "80GB, ,80GB"}) {
    EXPECT_THAT(ParseError(spec), HasSubstr("empty item")) << spec;
  }
}

TEST(ParseSimulatedGpusTest, RejectsBadSpeed) {
  for (const char* value : {"0", "-1", "100.5", "fast", "", "nan", "inf", "1x"}) {
    const std::string spec = std::string("80GB:speed=") + value;
    EXPECT_THAT(ParseError(spec), HasSubstr("item '" + spec + "': speed must be a number > 0"))
        << spec;
  }
  EXPECT_THAT(ParseError("80GB:speed=1:speed=2"), HasSubstr("speed given twice"));
}

TEST(ParseSimulatedGpusTest, RejectsBadUsed) {
  for (const char* value : {"-1", "1.5", "lots", ""}) {
    const std::string spec = std::string("1GB:used=") + value;
    EXPECT_THAT(ParseError(spec), HasSubstr("item '" + spec + "': used must be an integer"))
        << spec;
  }
  EXPECT_THAT(ParseError("1GB:used=1024"), HasSubstr("used (1024 MiB) must be less than the size"));
  EXPECT_TRUE(ParseSimulatedGpus("1GB:used=1023").ok());
  EXPECT_THAT(ParseError("1GB:used=1:used=2"), HasSubstr("used given twice"));
}

TEST(ParseSimulatedGpusTest, RejectsUnknownKeysAndMissingValues) {
  EXPECT_THAT(ParseError("80GB:color=red"),
              HasSubstr("unknown key 'color' (expected speed, used or health)"));
  EXPECT_THAT(ParseError("80GB:speed"), HasSubstr("expected key=value after ':', got 'speed'"));
  EXPECT_THAT(ParseError("80GB:"), HasSubstr("expected key=value"));
}

TEST(ParseSimulatedGpusTest, HealthKeyMarksDevicesFailed) {
  auto devices = ParseSimulatedGpus("80GB, 2x80GB:health=failed, 80GB:health=healthy");
  ASSERT_TRUE(devices.ok()) << devices.status().ToString();
  std::vector<bool> failed;
  for (const Device& device : *devices) failed.push_back(device.simulated_failed);
  EXPECT_EQ(failed, (std::vector<bool>{false, true, true, false}));
  EXPECT_THAT(ParseError("80GB:health=sick"), HasSubstr("health must be healthy or failed"));
  EXPECT_THAT(ParseError("80GB:health=failed:health=failed"), HasSubstr("health given twice"));

  DeviceTelemetry telemetry = SimulatedTelemetry(*devices, TimePoint{});
  ASSERT_EQ(telemetry.devices.size(), 4u);
  EXPECT_EQ(telemetry.devices[1].health, GpuHealth::kFailed);
  EXPECT_EQ(telemetry.devices[3].health, GpuHealth::kHealthy);
  EXPECT_EQ(FailedDeviceReasons(telemetry, 4),
            (std::vector<std::string>{
                "", "GPU1 failed: simulated failure (--simulate-gpus health=failed)",
                "GPU2 failed: simulated failure (--simulate-gpus health=failed)", ""}));
}

TEST(FailedDeviceReasonsTest, OnlyFailedCountsAndUnknownIndicesAreIgnored) {
  DeviceTelemetry telemetry;
  telemetry.devices.push_back({.index = 0, .health = GpuHealth::kDegraded, .health_detail = "x"});
  telemetry.devices.push_back({.index = 1, .health = GpuHealth::kFailed});
  telemetry.devices.push_back({.index = 9, .health = GpuHealth::kFailed, .health_detail = "y"});
  EXPECT_EQ(FailedDeviceReasons(telemetry, 3), (std::vector<std::string>{"", "GPU1 failed", ""}));
}

TEST(SimulatedDeviceManagerTest, ReportsItsDevices) {
  auto devices = ParseSimulatedGpus("2x16GB");
  ASSERT_TRUE(devices.ok());
  SimulatedDeviceManager manager(*devices);
  const DeviceManager& base = manager;
  std::vector<Device> reported = base.Devices();
  ASSERT_EQ(reported.size(), 2u);
  EXPECT_EQ(reported[1].uuid, "SIM-GPU-1");
  EXPECT_EQ(reported[1].total_mb, 16384);
}

}  // namespace
}  // namespace switchyard
