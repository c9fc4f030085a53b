#pragma once
// The memory-aware placement planner: decides how many instances of each model run and on which
// GPUs, from the models' instance configs, their memory needs and the devices' budgets. A pure,
// deterministic function: the same input always gives the same plan.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "devices/device.h"
#include "switchyard/model_config.h"
#include "switchyard/status.h"

namespace switchyard {

// One model to place.
struct PlacementRequest {
  std::string model;         // unique among the requests
  InstanceConfig instances;  // devices, per_device, max_per_device, gpus_per_instance are used
  int64_t need_mb = 0;       // MiB one instance needs on every GPU it spans (declared or measured)
};

// Where one instance runs.
struct InstancePlacement {
  std::vector<int> devices;  // GPU indices, ascending; empty = CPU
};

// What the plan puts on one GPU.
struct DevicePlan {
  int index = 0;
  int64_t budget_mb = 0;               // MiB: total - reserve - used_by_others, floor 0
  int64_t planned_mb = 0;              // MiB the planned instances need here; <= budget_mb
  std::vector<std::string> instances;  // "model/i", i the position in Plan::models[model]
};

struct Plan {
  // Per model (every request appears), its instances: GPU instances ordered by device group,
  // then by round (so a group's instances are adjacent); CPU instances have empty `devices`.
  std::map<std::string, std::vector<InstancePlacement>> models;
  std::vector<DevicePlan> devices;  // one per device, in index order
  int cpu_instances = 0;            // instances on CPU, all models together
};

// Most instances of one model on one device group (or on CPU): a guard against configs that
// would make millions. `per_device` above it is an error; `auto` stops there.
inline constexpr int kMaxInstancesPerGroup = 256;

// Plans placement. Rules:
//  - `instances.cpu`: per_device CPU instances (`auto` means 1); no GPU memory.
//  - `all_devices`: every GPU; with no GPUs at all, CPU instances as for `cpu`.
//  - `device_ids`: those GPUs.
//  - The eligible GPUs, in index order, form consecutive groups of gpus_per_instance (leftovers
//    unused); an instance needs need_mb on every GPU of its group.
//  - Fixed per_device N: N instances on every group, placed first, models in name order.
//  - `auto` (per_device 0): then, models in name order, one instance on every group where it
//    fits; then more, round by round (each round: model by model in name order, group by
//    group), one per group per round where it fits, up to max_per_device per group.
// Fails, naming the model, with INVALID_ARGUMENT for a device index that does not exist (listing
// the available ones), gpus_per_instance above the eligible count, a duplicate model name or a
// field out of range; with FAILED_PRECONDITION when a model does not fit (naming its need and the
// free memory of every device).
// REQUIRES: devices[i].index == i; vram_reserve_mb >= 0 (both checked).
StatusOr<Plan> PlanPlacement(const std::vector<PlacementRequest>& requests,
                             const std::vector<Device>& devices, int64_t vram_reserve_mb);

// The plan as a text table (one row per GPU, a CPU row, then one row per model), ending in a
// newline: printed at startup and by `switchyard plan`.
// REQUIRES: `plan` was made by PlanPlacement from `devices`.
std::string FormatPlan(const Plan& plan, const std::vector<Device>& devices);

}  // namespace switchyard
