#pragma once
// The device flags shared by `serve`, `plan` and `devices`: which GPUs exist and how much of each
// stays free.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "devices/device.h"
#include "devices/nvml_device_manager.h"
#include "devices/placement.h"
#include "switchyard/status.h"

namespace switchyard::cli {

struct DeviceFlags {
  // `--simulate-gpus`: a spec for ParseSimulatedGpus (devices/device.h), e.g. "4x80GB". Default
  // empty.
  std::string simulate_gpus;
  // Whether --simulate-gpus was given (even as ""): simulated devices instead of the machine's
  // own GPUs (NVML). Default false.
  bool simulate = false;
  // `--gpus`: the GPUs to use, written as CUDA_VISIBLE_DEVICES is (ServerOptions::gpus). Default
  // nullopt: CUDA_VISIBLE_DEVICES's choice.
  std::optional<std::string> gpus;
  // `--vram-reserve-mb`: MiB kept free on every GPU (CUDA context, fragmentation). Default 1024.
  int64_t vram_reserve_mb = 1024;
};

// Adds --simulate-gpus, --gpus and --vram-reserve-mb to `command`, writing into `flags`.
// REQUIRES: `flags` outlives the parse of `command`.
void AddDeviceFlags(CLI::App* command, DeviceFlags* flags);

// The devices the flags describe and, for real GPUs, the manager that found them.
struct FlagDevices {
  std::vector<Device> devices;
  // Null with --simulate-gpus. Otherwise the NVML manager (not polling): its telemetry, and when
  // `devices` is empty, reason() says why.
  std::unique_ptr<NvmlDeviceManager> nvml;
};

// With --simulate-gpus, the simulated devices; otherwise the machine's GPUs through NVML,
// honouring this process's CUDA_VISIBLE_DEVICES (none, with a reason, without NVML); either way
// only those --gpus lists, when given. INVALID_ARGUMENT for a bad --simulate-gpus spec, --gpus
// or CUDA_VISIBLE_DEVICES.
StatusOr<FlagDevices> OpenDevicesFromFlags(const DeviceFlags& flags);

// OpenDevicesFromFlags(flags).devices.
StatusOr<std::vector<Device>> DevicesFromFlags(const DeviceFlags& flags);

// Adds --backend-directory to `command` (`plan`, `devices`; `serve` has its own), writing into
// `backend_directory`. REQUIRES: `backend_directory` outlives the parse of `command`.
void AddBackendDirectoryFlag(CLI::App* command, std::string* backend_directory);

// Scans the repository at `model_repository` and plans its placement on `devices` with the
// flags' reserve (what `plan` and `devices` print), asking the plugins in `backend_directory`
// (empty: beside this program, as `serve` does) for their placement hints. Fails as
// ScanRepository or PlanRepository.
StatusOr<Plan> PlanFromFlags(const std::string& model_repository,
                             const std::vector<Device>& devices, const DeviceFlags& flags,
                             const std::string& backend_directory);

}  // namespace switchyard::cli
