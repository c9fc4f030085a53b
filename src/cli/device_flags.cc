#include "cli/device_flags.h"

#include <utility>

#include "devices/model_need.h"
#include "plugin/placement_hints.h"
#include "plugin/plugin_library.h"
#include "repository/repository.h"

namespace switchyard::cli {

void AddDeviceFlags(CLI::App* command, DeviceFlags* flags) {
  command
      ->add_option("--simulate-gpus", flags->simulate_gpus,
                   "Simulated GPUs instead of the machine's, e.g. 4x80GB or "
                   "80GB,80GB,40GB:speed=0.5 (see docs/configuration.md)")
      ->each([flags](const std::string&) { flags->simulate = true; });
  command->add_option("--gpus", flags->gpus,
                      "The GPUs to use, as CUDA_VISIBLE_DEVICES lists them (indices or UUIDs; "
                      "indices with --simulate-gpus), e.g. 0 for one server per GPU; replaces "
                      "CUDA_VISIBLE_DEVICES");
  command
      ->add_option("--vram-reserve-mb", flags->vram_reserve_mb,
                   "Device memory kept free on every GPU, MiB")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 30))
      ->capture_default_str();
}

StatusOr<FlagDevices> OpenDevicesFromFlags(const DeviceFlags& flags) {
  FlagDevices found;
  if (flags.simulate) {
    ASSIGN_OR_RETURN(std::vector<Device> simulated, ParseSimulatedGpus(flags.simulate_gpus));
    ASSIGN_OR_RETURN(found.devices, SelectGpus(std::move(simulated), flags.gpus));
    return found;
  }
  ASSIGN_OR_RETURN(
      found.nvml,
      NvmlDeviceManager::Open(flags.gpus ? flags.gpus : CudaVisibleDevicesFromEnvironment(),
                              {.visible_source = flags.gpus ? "--gpus" : "CUDA_VISIBLE_DEVICES"}));
  found.devices = found.nvml->Devices();
  return found;
}

StatusOr<std::vector<Device>> DevicesFromFlags(const DeviceFlags& flags) {
  ASSIGN_OR_RETURN(FlagDevices found, OpenDevicesFromFlags(flags));
  return std::move(found.devices);
}

void AddBackendDirectoryFlag(CLI::App* command, std::string* backend_directory) {
  command->add_option("--backend-directory", *backend_directory,
                      "Where backend plugins are, as for serve (default: ../backends from the "
                      "binary)");
}

StatusOr<Plan> PlanFromFlags(const std::string& model_repository,
                             const std::vector<Device>& devices, const DeviceFlags& flags,
                             const std::string& backend_directory) {
  ASSIGN_OR_RETURN(std::vector<RepositoryModel> models, ScanRepository(model_repository));
  const plugin::PlacementHintReader hints(
      backend_directory.empty() ? plugin::BackendDirectoryBesideThisProgram() : backend_directory);
  return PlanRepository(models, devices, flags.vram_reserve_mb, hints);
}

}  // namespace switchyard::cli
