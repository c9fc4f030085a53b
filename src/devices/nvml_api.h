#pragma once
// NVML (the NVIDIA Management Library), loaded at run time with dlopen. No NVML header is needed
// to build switchyard: the few C declarations we use are written below from NVML's public API
// reference (https://docs.nvidia.com/deploy/nvml-api/), with the same names, types and values.
// A machine without the NVIDIA driver simply has no libnvidia-ml.so.1, and then the device
// manager reports no GPUs with the reason NvmlApi::Load gave.

#include <cstdint>
#include <memory>
#include <string>

#include "switchyard/status.h"

namespace switchyard::nvml {

// ---- Declarations from NVML's nvml.h (C ABI; only what switchyard calls). ----
extern "C" {

using nvmlReturn_t = int;  // an enum in nvml.h; int-sized
inline constexpr nvmlReturn_t NVML_SUCCESS = 0;
inline constexpr nvmlReturn_t NVML_ERROR_UNINITIALIZED = 1;
inline constexpr nvmlReturn_t NVML_ERROR_INVALID_ARGUMENT = 2;
inline constexpr nvmlReturn_t NVML_ERROR_NOT_SUPPORTED = 3;
inline constexpr nvmlReturn_t NVML_ERROR_NO_PERMISSION = 4;
inline constexpr nvmlReturn_t NVML_ERROR_NOT_FOUND = 6;
inline constexpr nvmlReturn_t NVML_ERROR_INSUFFICIENT_SIZE = 7;
inline constexpr nvmlReturn_t NVML_ERROR_DRIVER_NOT_LOADED = 9;
inline constexpr nvmlReturn_t NVML_ERROR_GPU_IS_LOST = 15;
inline constexpr nvmlReturn_t NVML_ERROR_RESET_REQUIRED = 16;
inline constexpr nvmlReturn_t NVML_ERROR_UNKNOWN = 999;

struct nvmlDevice_st;
using nvmlDevice_t = nvmlDevice_st*;

// Buffer sizes NVML guarantees to be enough.
inline constexpr unsigned int NVML_DEVICE_UUID_V2_BUFFER_SIZE = 96;
inline constexpr unsigned int NVML_DEVICE_NAME_V2_BUFFER_SIZE = 96;

struct nvmlMemory_t {  // bytes; v1 layout (nvmlDeviceGetMemoryInfo)
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
};

struct nvmlUtilization_t {  // percent over the driver's last sample period
  unsigned int gpu;
  unsigned int memory;
};

struct nvmlPciInfo_t {  // v3 layout (nvmlDeviceGetPciInfo_v3)
  char busIdLegacy[16];
  unsigned int domain;
  unsigned int bus;
  unsigned int device;
  unsigned int pciDeviceId;
  unsigned int pciSubSystemId;
  char busId[32];
};

using nvmlTemperatureSensors_t = int;
inline constexpr nvmlTemperatureSensors_t NVML_TEMPERATURE_GPU = 0;

using nvmlMemoryErrorType_t = int;
inline constexpr nvmlMemoryErrorType_t NVML_MEMORY_ERROR_TYPE_CORRECTED = 0;
inline constexpr nvmlMemoryErrorType_t NVML_MEMORY_ERROR_TYPE_UNCORRECTED = 1;

using nvmlEccCounterType_t = int;
inline constexpr nvmlEccCounterType_t NVML_VOLATILE_ECC = 0;   // since the last driver load
inline constexpr nvmlEccCounterType_t NVML_AGGREGATE_ECC = 1;  // over the GPU's life

using nvmlEnableState_t = int;
inline constexpr nvmlEnableState_t NVML_FEATURE_DISABLED = 0;
inline constexpr nvmlEnableState_t NVML_FEATURE_ENABLED = 1;

// Bits of nvmlDeviceGetCurrentClocksThrottleReasons (renamed "clocks event reasons" in newer
// NVML; same values).
inline constexpr unsigned long long nvmlClocksThrottleReasonGpuIdle = 0x1ULL;
inline constexpr unsigned long long nvmlClocksThrottleReasonApplicationsClocksSetting = 0x2ULL;
inline constexpr unsigned long long nvmlClocksThrottleReasonSwPowerCap = 0x4ULL;
inline constexpr unsigned long long nvmlClocksThrottleReasonHwSlowdown = 0x8ULL;
inline constexpr unsigned long long nvmlClocksThrottleReasonSyncBoost = 0x10ULL;
inline constexpr unsigned long long nvmlClocksThrottleReasonSwThermalSlowdown = 0x20ULL;
inline constexpr unsigned long long nvmlClocksThrottleReasonHwThermalSlowdown = 0x40ULL;
inline constexpr unsigned long long nvmlClocksThrottleReasonHwPowerBrakeSlowdown = 0x80ULL;
inline constexpr unsigned long long nvmlClocksThrottleReasonDisplayClockSetting = 0x100ULL;

// Function types, named after the NVML functions.
using nvmlInit_v2_fn = nvmlReturn_t (*)();
using nvmlShutdown_fn = nvmlReturn_t (*)();
using nvmlErrorString_fn = const char* (*)(nvmlReturn_t result);
struct nvmlProcessInfo_t {  // v2/v3 layout (nvmlDeviceGetComputeRunningProcesses_v3)
  unsigned int pid;
  unsigned long long usedGpuMemory;  // bytes
  unsigned int gpuInstanceId;
  unsigned int computeInstanceId;
};

using nvmlDeviceGetCount_v2_fn = nvmlReturn_t (*)(unsigned int* device_count);
using nvmlDeviceGetHandleByIndex_v2_fn = nvmlReturn_t (*)(unsigned int index, nvmlDevice_t* device);
using nvmlDeviceGetUUID_fn = nvmlReturn_t (*)(nvmlDevice_t device, char* uuid, unsigned int length);
using nvmlDeviceGetName_fn = nvmlReturn_t (*)(nvmlDevice_t device, char* name, unsigned int length);
using nvmlDeviceGetMemoryInfo_fn = nvmlReturn_t (*)(nvmlDevice_t device, nvmlMemory_t* memory);
using nvmlDeviceGetPciInfo_v3_fn = nvmlReturn_t (*)(nvmlDevice_t device, nvmlPciInfo_t* pci);
using nvmlDeviceGetUtilizationRates_fn = nvmlReturn_t (*)(nvmlDevice_t device,
                                                          nvmlUtilization_t* utilization);
using nvmlDeviceGetTemperature_fn = nvmlReturn_t (*)(nvmlDevice_t device,
                                                     nvmlTemperatureSensors_t sensor,
                                                     unsigned int* celsius);
using nvmlDeviceGetPowerUsage_fn = nvmlReturn_t (*)(nvmlDevice_t device, unsigned int* milliwatts);
using nvmlDeviceGetCurrentClocksThrottleReasons_fn = nvmlReturn_t (*)(nvmlDevice_t device,
                                                                      unsigned long long* reasons);
using nvmlDeviceGetTotalEccErrors_fn = nvmlReturn_t (*)(nvmlDevice_t device,
                                                        nvmlMemoryErrorType_t error_type,
                                                        nvmlEccCounterType_t counter_type,
                                                        unsigned long long* count);
using nvmlDeviceGetRetiredPagesPendingStatus_fn = nvmlReturn_t (*)(nvmlDevice_t device,
                                                                   nvmlEnableState_t* pending);
using nvmlDeviceGetRemappedRows_fn = nvmlReturn_t (*)(nvmlDevice_t device,
                                                      unsigned int* corrected_rows,
                                                      unsigned int* uncorrected_rows,
                                                      unsigned int* pending,
                                                      unsigned int* failure_occurred);
// In: *count = room in `infos`; out: the processes with a context on the GPU (more than the room:
// NVML_ERROR_INSUFFICIENT_SIZE with *count = how many there are).
using nvmlDeviceGetComputeRunningProcesses_v3_fn = nvmlReturn_t (*)(nvmlDevice_t device,
                                                                    unsigned int* count,
                                                                    nvmlProcessInfo_t* infos);

}  // extern "C"

// The default library: the driver's, found on the loader's search path.
inline constexpr char kDefaultLibrary[] = "libnvidia-ml.so.1";
// The environment variable that overrides it (tests point it at a fake NVML).
inline constexpr char kLibraryEnvironmentVariable[] = "SWITCHYARD_NVML_LIBRARY";

// The library path to load: `configured` if not empty, else $SWITCHYARD_NVML_LIBRARY if set and
// not empty, else kDefaultLibrary.
std::string LibraryPath(const std::string& configured);

// A loaded and initialised NVML: the library handle and the functions switchyard uses. Required
// functions are never null; optional ones (marked) are null when the library lacks them (older
// drivers, or a GPU family without the feature), and callers skip what they cannot read.
// NVML itself is thread-safe, so the functions may be called from any thread. The destructor
// calls nvmlShutdown and unloads the library.
class NvmlApi {
 public:
  // Loads `path` with dlopen, resolves the functions and calls nvmlInit_v2. Fails with
  // UNAVAILABLE and a message made to follow "no GPUs: ", e.g.
  //   "NVML not found (libnvidia-ml.so.1: cannot open shared object file: ...)"
  //   "NVML lacks nvmlDeviceGetCount_v2 (/path/libnvidia-ml.so.1)"
  //   "NVML initialisation failed: Driver Not Loaded"
  static StatusOr<std::unique_ptr<NvmlApi>> Load(const std::string& path);

  ~NvmlApi();
  NvmlApi(const NvmlApi&) = delete;
  NvmlApi& operator=(const NvmlApi&) = delete;

  // "<NVML's own text> (NVML error <code>)"; safe for any code.
  std::string ErrorString(nvmlReturn_t result) const;

  const std::string& path() const { return path_; }

  // Required.
  nvmlDeviceGetCount_v2_fn device_get_count = nullptr;
  nvmlDeviceGetHandleByIndex_v2_fn device_get_handle_by_index = nullptr;
  nvmlDeviceGetUUID_fn device_get_uuid = nullptr;
  nvmlDeviceGetName_fn device_get_name = nullptr;
  nvmlDeviceGetMemoryInfo_fn device_get_memory_info = nullptr;
  // Optional.
  nvmlDeviceGetPciInfo_v3_fn device_get_pci_info = nullptr;
  nvmlDeviceGetUtilizationRates_fn device_get_utilization_rates = nullptr;
  nvmlDeviceGetTemperature_fn device_get_temperature = nullptr;
  nvmlDeviceGetPowerUsage_fn device_get_power_usage = nullptr;
  // nvmlDeviceGetCurrentClocksEventReasons where present, else the older
  // nvmlDeviceGetCurrentClocksThrottleReasons (same signature and bits).
  nvmlDeviceGetCurrentClocksThrottleReasons_fn device_get_current_clocks_throttle_reasons = nullptr;
  nvmlDeviceGetTotalEccErrors_fn device_get_total_ecc_errors = nullptr;
  nvmlDeviceGetRetiredPagesPendingStatus_fn device_get_retired_pages_pending_status = nullptr;
  nvmlDeviceGetRemappedRows_fn device_get_remapped_rows = nullptr;
  nvmlDeviceGetComputeRunningProcesses_v3_fn device_get_compute_running_processes = nullptr;

 private:
  NvmlApi() = default;

  std::string path_;
  void* library_ = nullptr;  // from dlopen
  nvmlShutdown_fn shutdown_ = nullptr;
  nvmlErrorString_fn error_string_ = nullptr;
};

}  // namespace switchyard::nvml
