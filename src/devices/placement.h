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

// Where a model's memory need per instance comes from.
enum class NeedSource {
  kDeclared,   // `instances.vram_mb`
  kMeasured,   // `vram_mb: measure`: what a loaded and warmed-up instance reported
  kEstimated,  // `vram_mb: measure`, not loaded: estimated from the config by
               // the backend's plugin (SyModelPlacementHints)
  kUnknown,    // `vram_mb: measure`, not loaded, not knowable from the config: planned as 0
};

// "declared", "measured", "estimated", "unknown".
const char* NeedSourceName(NeedSource source);

// One model to place.
struct PlacementRequest {
  std::string model;         // unique among the requests
  InstanceConfig instances;  // devices, per_device, max_per_device, gpus_per_instance are used
  int64_t need_mb = 0;       // MiB one instance needs on every GPU it spans (declared or measured)
  NeedSource need_source = NeedSource::kDeclared;  // shown in errors and by FormatPlan
  // Whether a second instance on the same device group is expected to add throughput: one
  // instance's copies and host work overlap the other's compute (real GPU backends, the
  // default). False for a backend whose device runs one batch at a time whatever the number of
  // instances on it (its plugin says so: SyModelPlacementHints). Used by `auto` only.
  bool overlaps_on_device = true;
};

// What the plan assumed one instance of a model needs.
struct PlannedNeed {
  int64_t mb = 0;
  NeedSource source = NeedSource::kDeclared;
  bool on_cpu = false;  // the model runs on CPU instances: it needs no GPU memory
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
  std::vector<DevicePlan> devices;           // one per device, in index order
  int cpu_instances = 0;                     // instances on CPU, all models together
  std::map<std::string, PlannedNeed> needs;  // per model (every request appears)
  // Per model (every request appears), why it got the instances it got, e.g. "per_device: 2",
  // "auto: 2 per GPU, the second overlaps copies with compute; memory allows 1 on GPU3".
  std::map<std::string, std::string> reasons;
};

// Most instances of one model on one device group (or on CPU): a guard against configs that
// would make millions. `per_device` above it is an error.
inline constexpr int kMaxInstancesPerGroup = 256;

// How many instances per device group `auto` aims for when a second is expected to add
// throughput (PlacementRequest::overlaps_on_device and a memory need above 0). A third adds
// nothing the second does not: two already keep the device busy while one copies.
inline constexpr int kAutoInstancesPerGroup = 2;

// The device groups `request` may place instances on (the eligible GPUs in index order, split
// into consecutive groups of gpus_per_instance; leftovers unused), as PlanPlacement forms them;
// empty when the model runs on CPU. Fails as PlanPlacement does for a device that does not
// exist, a device listed twice, or gpus_per_instance above the eligible count.
StatusOr<std::vector<std::vector<int>>> DeviceGroups(const PlacementRequest& request,
                                                     int device_count);

// Plans placement. Rules:
//  - `instances.cpu`: per_device CPU instances (`auto` means 1); no GPU memory.
//  - `all_devices`: every GPU; with no GPUs at all, CPU instances as for `cpu`.
//  - `device_ids`: those GPUs.
//  - The eligible GPUs, in index order, form consecutive groups of gpus_per_instance (leftovers
//    unused); an instance needs need_mb on every GPU of its group.
//  - Fixed per_device N: N instances on every group, placed first, models in name order.
//  - `auto` (per_device 0): then, models in name order, one instance on every group where it
//    fits; then more, round by round (each round: model by model in name order, group by
//    group), one per group per round where it fits, up to the model's auto target per group:
//    kAutoInstancesPerGroup for a model that overlaps_on_device and may need memory (a need of
//    0 that is not kUnknown: it needs none), else 1; at most max_per_device.
// Fails, naming the model, with INVALID_ARGUMENT for a device index that does not exist (listing
// the available ones), gpus_per_instance above the eligible count, a duplicate model name or a
// field out of range; with FAILED_PRECONDITION when a model does not fit (naming its need and the
// free memory of every device, and where the need came from when it was not declared).
// REQUIRES: devices[i].index == i; vram_reserve_mb >= 0 (both checked).
StatusOr<Plan> PlanPlacement(const std::vector<PlacementRequest>& requests,
                             const std::vector<Device>& devices, int64_t vram_reserve_mb);

// The plan as a text table (one row per GPU, a CPU row, then one row per model with its need per
// instance, where that came from, and why it got its instances), ending in a newline: printed at
// startup and by `switchyard plan`.
// REQUIRES: `plan` was made by PlanPlacement from `devices`.
std::string FormatPlan(const Plan& plan, const std::vector<Device>& devices);

}  // namespace switchyard
