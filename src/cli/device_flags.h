#pragma once
// The device flags shared by `serve`, `plan` and `devices`: which GPUs exist and how much of each
// stays free.

#include <cstdint>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "devices/device.h"
#include "devices/placement.h"
#include "switchyard/status.h"

namespace switchyard::cli {

struct DeviceFlags {
  // `--simulate-gpus`: a spec for ParseSimulatedGpus (devices/device.h), e.g. "4x80GB". Default
  // empty: the machine's own GPUs.
  std::string simulate_gpus;
  // `--vram-reserve-mb`: MiB kept free on every GPU (CUDA context, fragmentation). Default 1024.
  int64_t vram_reserve_mb = 1024;
};

// Adds --simulate-gpus and --vram-reserve-mb to `command`, writing into `flags`.
// REQUIRES: `flags` outlives the parse of `command`.
void AddDeviceFlags(CLI::App* command, DeviceFlags* flags);

// The devices the flags describe. INVALID_ARGUMENT for a bad --simulate-gpus spec.
StatusOr<std::vector<Device>> DevicesFromFlags(const DeviceFlags& flags);

// Scans the repository at `model_repository` and plans its placement on `devices` with the
// flags' reserve (what `plan` and `devices` print). Fails as ScanRepository or PlanRepository.
StatusOr<Plan> PlanFromFlags(const std::string& model_repository,
                             const std::vector<Device>& devices, const DeviceFlags& flags);

}  // namespace switchyard::cli
