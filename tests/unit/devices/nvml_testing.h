#pragma once
// Helpers for the tests that load the fake NVML (fake_nvml.cc): its three builds, a config file
// it reads, and its test controls.

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace switchyard::testing_nvml {

// The fake's builds; paths come from CMake.
inline const std::string kFullLibrary = FAKE_NVML_FULL;
inline const std::string kMinimalLibrary = FAKE_NVML_MINIMAL;  // no optional function
inline const std::string kBrokenLibrary = FAKE_NVML_BROKEN;    // no nvmlDeviceGetMemoryInfo

// Two H100s and a third GPU whose UUID shares a prefix with the first.
inline constexpr char kThreeGpus[] = R"(
device
uuid GPU-aaaaaaaa-1111-2222-3333-444444444444
name NVIDIA H100 80GB HBM3
pci 00000000:19:00.0
memory_total_mb 81559
memory_used_mb 600
utilization 37 12
temperature 45
power_mw 123456
throttle 0x5
device
uuid GPU-bbbbbbbb-1111-2222-3333-444444444444
name NVIDIA H100 80GB HBM3
pci 00000000:3B:00.0
memory_total_mb 81559
memory_used_mb 0
device
uuid GPU-abcdef01-1111-2222-3333-444444444444
name NVIDIA L4
pci 00000000:5E:00.0
memory_total_mb 23034
memory_used_mb 1
)";

// Writes the fake's config to a temporary file, points $FAKE_NVML_CONFIG at it, and holds the
// full fake loaded (so its counters survive the managers that come and go). Restores the
// environment at the end of the test.
class FakeNvmlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "switchyard_fake_nvml_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    config_ = (dir_ / "nvml.txt").string();
    setenv("FAKE_NVML_CONFIG", config_.c_str(), 1);
    unsetenv("SWITCHYARD_NVML_LIBRARY");
    library_ = dlopen(kFullLibrary.c_str(), RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(library_, nullptr) << dlerror();
    live_inits_ = reinterpret_cast<int (*)()>(dlsym(library_, "FakeNvmlLiveInits"));
    reload_ = reinterpret_cast<int (*)()>(dlsym(library_, "FakeNvmlReload"));
    ASSERT_NE(live_inits_, nullptr);
    ASSERT_NE(reload_, nullptr);
    WriteConfig(kThreeGpus);
  }

  void TearDown() override {
    if (library_ != nullptr) dlclose(library_);
    unsetenv("FAKE_NVML_CONFIG");
    unsetenv("SWITCHYARD_NVML_LIBRARY");
    std::filesystem::remove_all(dir_);
  }

  void WriteConfig(const std::string& text) { std::ofstream(config_) << text; }

  // Makes the loaded fake read the config again (after WriteConfig, for the next poll).
  void Reload() { ASSERT_EQ(reload_(), 0); }

  // nvmlInit_v2 calls minus nvmlShutdown calls in the full fake.
  int LiveInits() { return live_inits_(); }

  std::string dir() const { return dir_.string(); }

 private:
  std::filesystem::path dir_;
  std::string config_;
  void* library_ = nullptr;
  int (*live_inits_)() = nullptr;
  int (*reload_)() = nullptr;
};

}  // namespace switchyard::testing_nvml
