// Loading NVML with dlopen, against the fake NVML's builds.

#include "devices/nvml_api.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include "devices/nvml_testing.h"

namespace switchyard::nvml {
namespace {

using testing::HasSubstr;
using testing::StartsWith;
using testing_nvml::FakeNvmlTest;

class NvmlApiTest : public FakeNvmlTest {};

TEST_F(NvmlApiTest, LibraryPathPrefersTheConfiguredOneThenTheEnvironment) {
  EXPECT_EQ(LibraryPath(""), "libnvidia-ml.so.1");
  setenv("SWITCHYARD_NVML_LIBRARY", "/opt/fake/libnvml.so", 1);
  EXPECT_EQ(LibraryPath(""), "/opt/fake/libnvml.so");
  EXPECT_EQ(LibraryPath("/given.so"), "/given.so");
  setenv("SWITCHYARD_NVML_LIBRARY", "", 1);
  EXPECT_EQ(LibraryPath(""), "libnvidia-ml.so.1");
}

TEST_F(NvmlApiTest, AMissingLibraryIsUnavailableWithTheLoadersReason) {
  const std::string path = dir() + "/libnvidia-ml.so.1";
  auto api = NvmlApi::Load(path);
  ASSERT_FALSE(api.ok());
  EXPECT_EQ(api.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(api.status().message(), StartsWith("NVML not found (" + path + ": "));
  EXPECT_THAT(api.status().message(), HasSubstr("No such file"));
}

TEST_F(NvmlApiTest, AFailedInitIsUnavailableWithNvmlsText) {
  WriteConfig("init_error 9\n");
  auto api = NvmlApi::Load(testing_nvml::kFullLibrary);
  ASSERT_FALSE(api.ok());
  EXPECT_EQ(api.status().message(), "NVML initialisation failed: Driver Not Loaded (NVML error 9)");
  EXPECT_EQ(LiveInits(), 0);
}

TEST_F(NvmlApiTest, AMissingRequiredFunctionIsUnavailable) {
  auto api = NvmlApi::Load(testing_nvml::kBrokenLibrary);
  ASSERT_FALSE(api.ok());
  EXPECT_EQ(api.status().message(),
            "NVML lacks nvmlDeviceGetMemoryInfo (" + testing_nvml::kBrokenLibrary + ")");
}

TEST_F(NvmlApiTest, ResolvesEveryFunctionAndShutsDownAtTheEnd) {
  {
    auto api = NvmlApi::Load(testing_nvml::kFullLibrary);
    ASSERT_TRUE(api.ok()) << api.status().ToString();
    EXPECT_EQ(LiveInits(), 1);
    const NvmlApi& nvml = **api;
    EXPECT_EQ(nvml.path(), testing_nvml::kFullLibrary);
    EXPECT_NE(nvml.device_get_pci_info, nullptr);
    EXPECT_NE(nvml.device_get_utilization_rates, nullptr);
    EXPECT_NE(nvml.device_get_temperature, nullptr);
    EXPECT_NE(nvml.device_get_power_usage, nullptr);
    // Found under its older name: the fake has no nvmlDeviceGetCurrentClocksEventReasons.
    EXPECT_NE(nvml.device_get_current_clocks_throttle_reasons, nullptr);
    EXPECT_NE(nvml.device_get_total_ecc_errors, nullptr);
    EXPECT_NE(nvml.device_get_retired_pages_pending_status, nullptr);
    EXPECT_NE(nvml.device_get_remapped_rows, nullptr);
    unsigned int count = 0;
    EXPECT_EQ(nvml.device_get_count(&count), NVML_SUCCESS);
    EXPECT_EQ(count, 3u);
    EXPECT_EQ(nvml.ErrorString(NVML_ERROR_GPU_IS_LOST), "GPU is lost (NVML error 15)");
  }
  EXPECT_EQ(LiveInits(), 0);
}

TEST_F(NvmlApiTest, OptionalFunctionsMayBeMissing) {
  auto api = NvmlApi::Load(testing_nvml::kMinimalLibrary);
  ASSERT_TRUE(api.ok()) << api.status().ToString();
  const NvmlApi& nvml = **api;
  EXPECT_NE(nvml.device_get_memory_info, nullptr);
  EXPECT_EQ(nvml.device_get_pci_info, nullptr);
  EXPECT_EQ(nvml.device_get_utilization_rates, nullptr);
  EXPECT_EQ(nvml.device_get_temperature, nullptr);
  EXPECT_EQ(nvml.device_get_power_usage, nullptr);
  EXPECT_EQ(nvml.device_get_current_clocks_throttle_reasons, nullptr);
  EXPECT_EQ(nvml.device_get_total_ecc_errors, nullptr);
  EXPECT_EQ(nvml.device_get_retired_pages_pending_status, nullptr);
  EXPECT_EQ(nvml.device_get_remapped_rows, nullptr);
}

}  // namespace
}  // namespace switchyard::nvml
