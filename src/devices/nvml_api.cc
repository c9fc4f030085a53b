#include "devices/nvml_api.h"

#include <dlfcn.h>

#include <cstdlib>
#include <utility>

#include "fmt/format.h"

namespace switchyard::nvml {
namespace {

// The symbol `name` of `library` as a `Fn`, or null.
template <typename Fn>
Fn Symbol(void* library, const char* name) {
  return reinterpret_cast<Fn>(dlsym(library, name));
}

}  // namespace

std::string LibraryPath(const std::string& configured) {
  if (!configured.empty()) return configured;
  const char* from_environment = std::getenv(kLibraryEnvironmentVariable);
  if (from_environment != nullptr && from_environment[0] != '\0') return from_environment;
  return kDefaultLibrary;
}

StatusOr<std::unique_ptr<NvmlApi>> NvmlApi::Load(const std::string& path) {
  std::unique_ptr<NvmlApi> api(new NvmlApi());
  api->path_ = path;
  dlerror();  // clear
  api->library_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (api->library_ == nullptr) {
    const char* why = dlerror();
    return Unavailable(fmt::format("NVML not found ({})", why != nullptr ? why : path));
  }
  void* lib = api->library_;
  auto init = Symbol<nvmlInit_v2_fn>(lib, "nvmlInit_v2");
  api->shutdown_ = Symbol<nvmlShutdown_fn>(lib, "nvmlShutdown");
  api->error_string_ = Symbol<nvmlErrorString_fn>(lib, "nvmlErrorString");
  api->device_get_count = Symbol<nvmlDeviceGetCount_v2_fn>(lib, "nvmlDeviceGetCount_v2");
  api->device_get_handle_by_index =
      Symbol<nvmlDeviceGetHandleByIndex_v2_fn>(lib, "nvmlDeviceGetHandleByIndex_v2");
  api->device_get_uuid = Symbol<nvmlDeviceGetUUID_fn>(lib, "nvmlDeviceGetUUID");
  api->device_get_name = Symbol<nvmlDeviceGetName_fn>(lib, "nvmlDeviceGetName");
  api->device_get_memory_info = Symbol<nvmlDeviceGetMemoryInfo_fn>(lib, "nvmlDeviceGetMemoryInfo");
  const std::pair<const char*, bool> required[] = {
      {"nvmlInit_v2", init != nullptr},
      {"nvmlShutdown", api->shutdown_ != nullptr},
      {"nvmlErrorString", api->error_string_ != nullptr},
      {"nvmlDeviceGetCount_v2", api->device_get_count != nullptr},
      {"nvmlDeviceGetHandleByIndex_v2", api->device_get_handle_by_index != nullptr},
      {"nvmlDeviceGetUUID", api->device_get_uuid != nullptr},
      {"nvmlDeviceGetName", api->device_get_name != nullptr},
      {"nvmlDeviceGetMemoryInfo", api->device_get_memory_info != nullptr},
  };
  for (const auto& [name, found] : required) {
    if (!found) {
      api->shutdown_ = nullptr;  // not initialised: the destructor only unloads
      return Unavailable(fmt::format("NVML lacks {} ({})", name, path));
    }
  }
  api->device_get_pci_info = Symbol<nvmlDeviceGetPciInfo_v3_fn>(lib, "nvmlDeviceGetPciInfo_v3");
  api->device_get_utilization_rates =
      Symbol<nvmlDeviceGetUtilizationRates_fn>(lib, "nvmlDeviceGetUtilizationRates");
  api->device_get_temperature =
      Symbol<nvmlDeviceGetTemperature_fn>(lib, "nvmlDeviceGetTemperature");
  api->device_get_power_usage = Symbol<nvmlDeviceGetPowerUsage_fn>(lib, "nvmlDeviceGetPowerUsage");
  api->device_get_current_clocks_throttle_reasons =
      Symbol<nvmlDeviceGetCurrentClocksThrottleReasons_fn>(
          lib, "nvmlDeviceGetCurrentClocksEventReasons");
  if (api->device_get_current_clocks_throttle_reasons == nullptr) {
    api->device_get_current_clocks_throttle_reasons =
        Symbol<nvmlDeviceGetCurrentClocksThrottleReasons_fn>(
            lib, "nvmlDeviceGetCurrentClocksThrottleReasons");
  }
  api->device_get_total_ecc_errors =
      Symbol<nvmlDeviceGetTotalEccErrors_fn>(lib, "nvmlDeviceGetTotalEccErrors");
  api->device_get_retired_pages_pending_status = Symbol<nvmlDeviceGetRetiredPagesPendingStatus_fn>(
      lib, "nvmlDeviceGetRetiredPagesPendingStatus");
  api->device_get_remapped_rows =
      Symbol<nvmlDeviceGetRemappedRows_fn>(lib, "nvmlDeviceGetRemappedRows");
  api->device_get_compute_running_processes = Symbol<nvmlDeviceGetComputeRunningProcesses_v3_fn>(
      lib, "nvmlDeviceGetComputeRunningProcesses_v3");

  const nvmlReturn_t result = init();
  if (result != NVML_SUCCESS) {
    std::string why = api->ErrorString(result);
    api->shutdown_ = nullptr;  // nvmlInit failed: nothing to shut down
    return Unavailable(fmt::format("NVML initialisation failed: {}", why));
  }
  return api;
}

NvmlApi::~NvmlApi() {
  if (shutdown_ != nullptr) shutdown_();
  if (library_ != nullptr) dlclose(library_);
}

std::string NvmlApi::ErrorString(nvmlReturn_t result) const {
  const char* text = error_string_ != nullptr ? error_string_(result) : nullptr;
  return fmt::format("{} (NVML error {})", text != nullptr ? text : "unknown error", result);
}

}  // namespace switchyard::nvml
