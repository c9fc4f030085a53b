#include "cli/device_flags.h"

#include <utility>

#include "devices/model_need.h"
#include "repository/repository.h"

namespace switchyard::cli {

void AddDeviceFlags(CLI::App* command, DeviceFlags* flags) {
  command
      ->add_option("--simulate-gpus", flags->simulate_gpus,
                   "Simulated GPUs instead of the machine's, e.g. 4x80GB or "
                   "80GB,80GB,40GB:speed=0.5 (see docs/configuration.md)")
      ->each([flags](const std::string&) { flags->simulate = true; });
  command
      ->add_option("--vram-reserve-mb", flags->vram_reserve_mb,
                   "Device memory kept free on every GPU, MiB")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 30))
      ->capture_default_str();
}

StatusOr<FlagDevices> OpenDevicesFromFlags(const DeviceFlags& flags) {
  FlagDevices found;
  if (flags.simulate) {
    ASSIGN_OR_RETURN(found.devices, ParseSimulatedGpus(flags.simulate_gpus));
    return found;
  }
  ASSIGN_OR_RETURN(found.nvml, NvmlDeviceManager::Open(CudaVisibleDevicesFromEnvironment()));
  found.devices = found.nvml->Devices();
  return found;
}

StatusOr<std::vector<Device>> DevicesFromFlags(const DeviceFlags& flags) {
  ASSIGN_OR_RETURN(FlagDevices found, OpenDevicesFromFlags(flags));
  return std::move(found.devices);
}

StatusOr<Plan> PlanFromFlags(const std::string& model_repository,
                             const std::vector<Device>& devices, const DeviceFlags& flags) {
  ASSIGN_OR_RETURN(std::vector<RepositoryModel> models, ScanRepository(model_repository));
  return PlanRepository(models, devices, flags.vram_reserve_mb);
}

}  // namespace switchyard::cli
