// A fake NVML: a shared library exporting the NVML functions switchyard uses, answering from a
// text file named by $FAKE_NVML_CONFIG, read at nvmlInit_v2 and at FakeNvmlReload(). Tests load
// it through SWITCHYARD_NVML_LIBRARY (or NvmlOptions::library_path).
//
// Built three times (FAKE_NVML_VARIANT): 0 full (the throttle reasons under their older name
// only); 1 without any optional function; 2 without nvmlDeviceGetMemoryInfo (a required one).
//
// The file, one directive a line ('#' starts a comment):
//   init_error CODE                 nvmlInit_v2 fails with CODE
//   error FUNCTION CODE             FUNCTION fails with CODE (before any `device`: for every GPU
//                                   and for nvmlDeviceGetCount_v2; after one: for that GPU)
//   device                          starts a GPU (NVML index = order in the file)
//   uuid TEXT | name TEXT | pci TEXT
//   memory_total_mb N | memory_used_mb N
//   utilization GPU_PERCENT MEMORY_PERCENT
//   temperature C | power_mw N | throttle BITS (0x.. or decimal)
//   ecc_uncorrected N | retired_pending 0|1
//   remapped_rows CORRECTED UNCORRECTED PENDING FAILURE
//   process PID USED_MB             a compute process on the GPU (repeatable; PID "self" is the
//                                   process that loaded the fake, "children" each of its
//                                   descendants at the time of the query: children, theirs...)
// Without $FAKE_NVML_CONFIG, nvmlInit_v2 fails with "Driver Not Loaded".

#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "devices/nvml_api.h"

#ifndef FAKE_NVML_VARIANT
#define FAKE_NVML_VARIANT 0
#endif

#define FAKE_EXPORT extern "C" __attribute__((visibility("default")))

// What a handle points to (nvml_api.h only declares the type).
struct switchyard::nvml::nvmlDevice_st {
  unsigned int index;
};

using namespace switchyard::nvml;  // NOLINT(google-build-using-namespace): the C types

namespace {

constexpr unsigned int kMaxDevices = 64;

struct FakeDevice {
  std::string uuid = "GPU-00000000-0000-0000-0000-000000000000";
  std::string name = "Fake GPU";
  std::string pci = "00000000:00:00.0";
  unsigned long long total_mb = 1024;
  unsigned long long used_mb = 0;
  unsigned int utilization_gpu = 0;
  unsigned int utilization_memory = 0;
  unsigned int temperature = 30;
  unsigned int power_mw = 50000;
  unsigned long long throttle = 0;
  unsigned long long ecc_uncorrected = 0;
  int retired_pending = 0;
  unsigned int remapped[4] = {0, 0, 0, 0};
  std::vector<std::pair<unsigned int, unsigned long long>> processes;  // pid, MiB
  std::optional<unsigned long long> children_mb;  // every descendant process holds this much
  std::map<std::string, nvmlReturn_t> errors;
};

struct FakeState {
  FakeState() {
    for (unsigned int i = 0; i < kMaxDevices; ++i) handles[i].index = i;
  }

  std::mutex mu;
  nvmlReturn_t init_error = NVML_SUCCESS;
  std::map<std::string, nvmlReturn_t> errors;  // for every GPU
  std::vector<FakeDevice> devices;
  int live_inits = 0;
  nvmlDevice_st handles[kMaxDevices];
};

// Destroyed when the library is unloaded (so a sanitizer sees no leak).
FakeState& State() {
  static FakeState state;
  return state;
}

// Reads $FAKE_NVML_CONFIG into the state. REQUIRES: state.mu held.
nvmlReturn_t LoadConfig(FakeState& state) {
  state.init_error = NVML_SUCCESS;
  state.errors.clear();
  state.devices.clear();
  const char* path = std::getenv("FAKE_NVML_CONFIG");
  if (path == nullptr) return NVML_ERROR_DRIVER_NOT_LOADED;
  std::ifstream file(path);
  if (!file) return NVML_ERROR_DRIVER_NOT_LOADED;
  std::string line;
  while (std::getline(file, line)) {
    line = line.substr(0, line.find('#'));
    std::istringstream in(line);
    std::string key;
    if (!(in >> key)) continue;
    std::string rest;
    std::getline(in >> std::ws, rest);
    while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.back()))) rest.pop_back();
    std::istringstream values(rest);
    if (key == "init_error") {
      values >> state.init_error;
      continue;
    }
    if (key == "error") {
      std::string function;
      nvmlReturn_t code = NVML_SUCCESS;
      values >> function >> code;
      (state.devices.empty() ? state.errors : state.devices.back().errors)[function] = code;
      continue;
    }
    if (key == "device") {
      state.devices.emplace_back();
      continue;
    }
    if (state.devices.empty()) return NVML_ERROR_UNKNOWN;  // a GPU's key before `device`
    FakeDevice& d = state.devices.back();
    if (key == "uuid") {
      d.uuid = rest;
    } else if (key == "name") {
      d.name = rest;
    } else if (key == "pci") {
      d.pci = rest;
    } else if (key == "memory_total_mb") {
      values >> d.total_mb;
    } else if (key == "memory_used_mb") {
      values >> d.used_mb;
    } else if (key == "utilization") {
      values >> d.utilization_gpu >> d.utilization_memory;
    } else if (key == "temperature") {
      values >> d.temperature;
    } else if (key == "power_mw") {
      values >> d.power_mw;
    } else if (key == "throttle") {
      d.throttle = std::strtoull(rest.c_str(), nullptr, 0);
    } else if (key == "ecc_uncorrected") {
      values >> d.ecc_uncorrected;
    } else if (key == "retired_pending") {
      values >> d.retired_pending;
    } else if (key == "remapped_rows") {
      values >> d.remapped[0] >> d.remapped[1] >> d.remapped[2] >> d.remapped[3];
    } else if (key == "process") {
      std::string pid;
      unsigned long long mb = 0;
      values >> pid >> mb;
      if (pid == "children") {
        d.children_mb = mb;
        continue;
      }
      d.processes.emplace_back(
          pid == "self" ? static_cast<unsigned int>(getpid())
                        : static_cast<unsigned int>(std::strtoul(pid.c_str(), nullptr, 10)),
          mb);
    } else {
      return NVML_ERROR_UNKNOWN;
    }
  }
  if (state.devices.size() > kMaxDevices) return NVML_ERROR_UNKNOWN;
  return NVML_SUCCESS;
}

// The error configured for `function` on `device` (null: the global ones only), or success.
nvmlReturn_t ConfiguredError(FakeState& state, const char* function, const FakeDevice* device) {
  if (device != nullptr) {
    auto it = device->errors.find(function);
    if (it != device->errors.end()) return it->second;
  }
  auto it = state.errors.find(function);
  return it != state.errors.end() ? it->second : NVML_SUCCESS;
}

// Runs `body(device)` for a valid handle under the lock, after the configured error checks.
template <typename Body>
nvmlReturn_t WithDevice(const char* function, nvmlDevice_t handle, Body body) {
  FakeState& state = State();
  std::lock_guard<std::mutex> lock(state.mu);
  if (state.live_inits == 0) return NVML_ERROR_UNINITIALIZED;
  if (handle == nullptr || handle->index >= state.devices.size()) {
    return NVML_ERROR_INVALID_ARGUMENT;
  }
  const FakeDevice& device = state.devices[handle->index];
  if (nvmlReturn_t error = ConfiguredError(state, function, &device); error != NVML_SUCCESS) {
    return error;
  }
  return body(device);
}

// The child processes of this process (of any of its threads), from /proc.
// This process's descendants: its children, theirs, and so on (a worker's exec program too).
[[maybe_unused]] std::vector<unsigned int> ChildProcesses() {
  std::vector<unsigned int> tree = {static_cast<unsigned int>(getpid())};
  for (std::size_t next = 0; next < tree.size(); ++next) {
    std::error_code ignored;
    const std::filesystem::path tasks = "/proc/" + std::to_string(tree[next]) + "/task";
    for (const auto& task : std::filesystem::directory_iterator(tasks, ignored)) {
      std::ifstream file(task.path() / "children");
      unsigned int pid = 0;
      while (file >> pid) tree.push_back(pid);
    }
  }
  tree.erase(tree.begin());
  return tree;
}

nvmlReturn_t CopyString(const std::string& text, char* buffer, unsigned int length) {
  if (buffer == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
  if (text.size() + 1 > length) return NVML_ERROR_INSUFFICIENT_SIZE;
  std::memcpy(buffer, text.c_str(), text.size() + 1);
  return NVML_SUCCESS;
}

}  // namespace

// ---- Test controls. ----

// Re-reads $FAKE_NVML_CONFIG (the file may have changed); NVML_SUCCESS or why not.
FAKE_EXPORT int FakeNvmlReload() {
  FakeState& state = State();
  std::lock_guard<std::mutex> lock(state.mu);
  return LoadConfig(state);
}

// nvmlInit_v2 calls that succeeded minus nvmlShutdown calls.
FAKE_EXPORT int FakeNvmlLiveInits() {
  FakeState& state = State();
  std::lock_guard<std::mutex> lock(state.mu);
  return state.live_inits;
}

// ---- NVML. ----

FAKE_EXPORT nvmlReturn_t nvmlInit_v2() {
  FakeState& state = State();
  std::lock_guard<std::mutex> lock(state.mu);
  if (nvmlReturn_t error = LoadConfig(state); error != NVML_SUCCESS) return error;
  if (state.init_error != NVML_SUCCESS) return state.init_error;
  ++state.live_inits;
  return NVML_SUCCESS;
}

FAKE_EXPORT nvmlReturn_t nvmlShutdown() {
  FakeState& state = State();
  std::lock_guard<std::mutex> lock(state.mu);
  if (state.live_inits == 0) return NVML_ERROR_UNINITIALIZED;
  --state.live_inits;
  return NVML_SUCCESS;
}

FAKE_EXPORT const char* nvmlErrorString(nvmlReturn_t result) {
  switch (result) {
    case NVML_SUCCESS:
      return "Success";
    case NVML_ERROR_UNINITIALIZED:
      return "Uninitialized";
    case NVML_ERROR_INVALID_ARGUMENT:
      return "Invalid Argument";
    case NVML_ERROR_NOT_SUPPORTED:
      return "Not Supported";
    case NVML_ERROR_NO_PERMISSION:
      return "Insufficient Permissions";
    case NVML_ERROR_DRIVER_NOT_LOADED:
      return "Driver Not Loaded";
    case NVML_ERROR_GPU_IS_LOST:
      return "GPU is lost";
    case NVML_ERROR_RESET_REQUIRED:
      return "GPU requires restart";
    default:
      return "Unknown Error";
  }
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int* count) {
  FakeState& state = State();
  std::lock_guard<std::mutex> lock(state.mu);
  if (state.live_inits == 0) return NVML_ERROR_UNINITIALIZED;
  if (nvmlReturn_t error = ConfiguredError(state, "nvmlDeviceGetCount_v2", nullptr);
      error != NVML_SUCCESS) {
    return error;
  }
  *count = static_cast<unsigned int>(state.devices.size());
  return NVML_SUCCESS;
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t* device) {
  FakeState& state = State();
  std::lock_guard<std::mutex> lock(state.mu);
  if (state.live_inits == 0) return NVML_ERROR_UNINITIALIZED;
  if (index >= state.devices.size()) return NVML_ERROR_INVALID_ARGUMENT;
  *device = &state.handles[index];
  return NVML_SUCCESS;
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t handle, char* uuid, unsigned int length) {
  return WithDevice("nvmlDeviceGetUUID", handle,
                    [&](const FakeDevice& d) { return CopyString(d.uuid, uuid, length); });
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t handle, char* name, unsigned int length) {
  return WithDevice("nvmlDeviceGetName", handle,
                    [&](const FakeDevice& d) { return CopyString(d.name, name, length); });
}

#if FAKE_NVML_VARIANT != 2
FAKE_EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t handle, nvmlMemory_t* memory) {
  return WithDevice("nvmlDeviceGetMemoryInfo", handle, [&](const FakeDevice& d) {
    constexpr unsigned long long kMiB = 1ULL << 20;
    memory->total = d.total_mb * kMiB;
    memory->used = d.used_mb * kMiB;
    memory->free = (d.total_mb - d.used_mb) * kMiB;
    return NVML_SUCCESS;
  });
}
#endif

#if FAKE_NVML_VARIANT == 0
FAKE_EXPORT nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t handle, nvmlPciInfo_t* pci) {
  return WithDevice("nvmlDeviceGetPciInfo_v3", handle, [&](const FakeDevice& d) {
    *pci = nvmlPciInfo_t{};
    return CopyString(d.pci, pci->busId, sizeof(pci->busId));
  });
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t handle,
                                                       nvmlUtilization_t* utilization) {
  return WithDevice("nvmlDeviceGetUtilizationRates", handle, [&](const FakeDevice& d) {
    utilization->gpu = d.utilization_gpu;
    utilization->memory = d.utilization_memory;
    return NVML_SUCCESS;
  });
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t handle,
                                                  nvmlTemperatureSensors_t sensor,
                                                  unsigned int* celsius) {
  return WithDevice("nvmlDeviceGetTemperature", handle, [&](const FakeDevice& d) {
    if (sensor != NVML_TEMPERATURE_GPU) return NVML_ERROR_INVALID_ARGUMENT;
    *celsius = d.temperature;
    return NVML_SUCCESS;
  });
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t handle, unsigned int* milliwatts) {
  return WithDevice("nvmlDeviceGetPowerUsage", handle, [&](const FakeDevice& d) {
    *milliwatts = d.power_mw;
    return NVML_SUCCESS;
  });
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetCurrentClocksThrottleReasons(nvmlDevice_t handle,
                                                                   unsigned long long* reasons) {
  return WithDevice("nvmlDeviceGetCurrentClocksThrottleReasons", handle, [&](const FakeDevice& d) {
    *reasons = d.throttle;
    return NVML_SUCCESS;
  });
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetTotalEccErrors(nvmlDevice_t handle,
                                                     nvmlMemoryErrorType_t error_type,
                                                     nvmlEccCounterType_t counter_type,
                                                     unsigned long long* count) {
  return WithDevice("nvmlDeviceGetTotalEccErrors", handle, [&](const FakeDevice& d) {
    if (error_type != NVML_MEMORY_ERROR_TYPE_UNCORRECTED || counter_type != NVML_VOLATILE_ECC) {
      return NVML_ERROR_INVALID_ARGUMENT;  // switchyard asks for nothing else
    }
    *count = d.ecc_uncorrected;
    return NVML_SUCCESS;
  });
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetRetiredPagesPendingStatus(nvmlDevice_t handle,
                                                                nvmlEnableState_t* pending) {
  return WithDevice("nvmlDeviceGetRetiredPagesPendingStatus", handle, [&](const FakeDevice& d) {
    *pending = d.retired_pending != 0 ? NVML_FEATURE_ENABLED : NVML_FEATURE_DISABLED;
    return NVML_SUCCESS;
  });
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t handle,
                                                                 unsigned int* count,
                                                                 nvmlProcessInfo_t* infos) {
  return WithDevice("nvmlDeviceGetComputeRunningProcesses_v3", handle, [&](const FakeDevice& d) {
    if (count == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
    std::vector<std::pair<unsigned int, unsigned long long>> processes = d.processes;
    if (d.children_mb) {
      for (unsigned int child : ChildProcesses()) processes.emplace_back(child, *d.children_mb);
    }
    unsigned int room = *count;
    *count = static_cast<unsigned int>(processes.size());
    if (processes.size() > room) return NVML_ERROR_INSUFFICIENT_SIZE;
    for (std::size_t i = 0; i < processes.size(); ++i) {
      infos[i] = nvmlProcessInfo_t{.pid = processes[i].first,
                                   .usedGpuMemory = processes[i].second << 20,
                                   .gpuInstanceId = 0,
                                   .computeInstanceId = 0};
    }
    return NVML_SUCCESS;
  });
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetRemappedRows(nvmlDevice_t handle, unsigned int* corrected,
                                                   unsigned int* uncorrected, unsigned int* pending,
                                                   unsigned int* failure) {
  return WithDevice("nvmlDeviceGetRemappedRows", handle, [&](const FakeDevice& d) {
    *corrected = d.remapped[0];
    *uncorrected = d.remapped[1];
    *pending = d.remapped[2];
    *failure = d.remapped[3];
    return NVML_SUCCESS;
  });
}
#endif
