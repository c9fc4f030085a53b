#pragma once
// From a model repository to a placement plan: each model's memory need per instance, and the
// plan the server and `switchyard plan` both use.
//
// A need is declared (`instances.vram_mb`) or measured (`vram_mb: measure`, the default). The
// server measures it by loading one instance first (ServerImpl, src/server/need_probe.h); before
// any instance has loaded, as in `switchyard plan`, a measured need is what the config lets one
// know (InstanceNeedMb).

#include <cstdint>
#include <vector>

#include "devices/device.h"
#include "devices/placement.h"
#include "repository/repository.h"
#include "switchyard/model_config.h"
#include "switchyard/status.h"

namespace switchyard {

// MiB one instance of the model needs on every GPU it spans, as far as the config tells:
// `instances.vram_mb` when declared; otherwise, for the sim backend, what its instances report
// after a warm-up at max batch: the integer parameters `memory_mb` + `memory_mb_per_item` x
// max(1, max_batch_size) (defaults 0); for any other backend 0 (known only once an instance has
// loaded). INVALID_ARGUMENT, naming the model, when a sim parameter is not an integer >= 0.
StatusOr<int64_t> InstanceNeedMb(const ModelConfig& config);

// Where InstanceNeedMb's figure comes from: kDeclared, kEstimated (sim) or kUnknown.
NeedSource InstanceNeedSource(const ModelConfig& config);

// Whether the server measures the model's need by loading an instance before placing the
// others: `vram_mb: measure` with `isolation: process` (the worker reports what its instance
// holds after load and warm-up). A model with `isolation: thread` keeps InstanceNeedMb.
bool MeasuredAtLoad(const ModelConfig& config);

// The placement request for `config` with the need from InstanceNeedMb.
StatusOr<PlacementRequest> PlacementRequestFor(const ModelConfig& config);

// Plans the placement of `models` on `devices` (see PlanPlacement) with each model's need from
// InstanceNeedMb. `vram_reserve_mb`: MiB kept free on every GPU.
// REQUIRES: devices[i].index == i; vram_reserve_mb >= 0 (both checked).
StatusOr<Plan> PlanRepository(const std::vector<RepositoryModel>& models,
                              const std::vector<Device>& devices, int64_t vram_reserve_mb);

}  // namespace switchyard
