#pragma once
// From a model repository to a placement plan: each model's memory need per instance, and the
// plan the server and `switchyard plan` both use.
//
// A need is declared (`instances.vram_mb`) or measured (`vram_mb: measure`, the default). The
// server measures it by loading one instance first (ServerImpl, src/server/need_probe.h); before
// any instance has loaded, as in `switchyard plan`, a measured need is what the model's backend
// can tell from the config (its plugin's SyModelPlacementHints, read by `hints`).

#include <cstdint>
#include <vector>

#include "devices/device.h"
#include "devices/placement.h"
#include "plugin/placement_hints.h"
#include "repository/repository.h"
#include "switchyard/model_config.h"
#include "switchyard/status.h"

namespace switchyard {

// Whether the server measures the model's need by loading an instance before placing the
// others: `vram_mb: measure` with `isolation: process` (the worker reports what its instance
// holds after load and warm-up). A model with `isolation: thread` keeps PlacementRequestFor's
// need.
bool MeasuredAtLoad(const ModelConfig& config);

// The placement request for `config`. Its need: MiB one instance needs on every GPU it spans,
// as far as the config tells: `instances.vram_mb` when declared (kDeclared); otherwise what the
// backend's plugin estimates from the config (kEstimated; SyModelPlacementHints; the sim
// backend: what its instances report after a warm-up at max batch); 0 when it cannot tell
// (kUnknown: known only once an instance has loaded). And whether a second instance on one GPU
// adds throughput, as the plugin says (default yes). The plugin's error, naming the model, when
// it refuses the config: it is asked even when the need is declared.
StatusOr<PlacementRequest> PlacementRequestFor(const ModelConfig& config,
                                               const plugin::PlacementHintReader& hints);

// Plans the placement of `models` on `devices` (see PlanPlacement) with each model's
// PlacementRequestFor. `vram_reserve_mb`: MiB kept free on every GPU.
// REQUIRES: devices[i].index == i; vram_reserve_mb >= 0 (both checked).
StatusOr<Plan> PlanRepository(const std::vector<RepositoryModel>& models,
                              const std::vector<Device>& devices, int64_t vram_reserve_mb,
                              const plugin::PlacementHintReader& hints);

}  // namespace switchyard
