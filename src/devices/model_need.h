#pragma once
// From a model repository to a placement plan: each model's memory need per instance, and the
// plan the server and `switchyard plan` both use.

#include <cstdint>
#include <vector>

#include "devices/device.h"
#include "devices/placement.h"
#include "repository/repository.h"
#include "switchyard/model_config.h"
#include "switchyard/status.h"

namespace switchyard {

// MiB one instance of the model needs on every GPU it spans: `instances.vram_mb` when declared;
// otherwise, for the sim backend, the integer parameter `memory_mb` (default 0); for any other
// backend, 0 for now (`measure` needs worker processes). INVALID_ARGUMENT, naming the model,
// when `memory_mb` is not an integer >= 0.
StatusOr<int64_t> InstanceNeedMb(const ModelConfig& config);

// Plans the placement of `models` on `devices` (see PlanPlacement) with each model's need from
// InstanceNeedMb. `vram_reserve_mb`: MiB kept free on every GPU.
// REQUIRES: devices[i].index == i; vram_reserve_mb >= 0 (both checked).
StatusOr<Plan> PlanRepository(const std::vector<RepositoryModel>& models,
                              const std::vector<Device>& devices, int64_t vram_reserve_mb);

}  // namespace switchyard
