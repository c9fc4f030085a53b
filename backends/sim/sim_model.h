#pragma once
// The sim backend: deterministic CPU models for tests, examples and benchmarks. A sim model
// computes a simple function of its inputs and takes a configurable time per batch,
// `service_time_us + service_time_per_item_us · items`, optionally with jitter and injected
// failures. Parameters (config.yaml `parameters:`) are documented in docs/configuration.md.

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <vector>

#include "switchyard/clock.h"
#include "switchyard/infer.h"
#include "switchyard/model_config.h"
#include "switchyard/status.h"

namespace switchyard::sim {

enum class Function { kIdentity, kAddSub, kAddSubString, kZeros };

struct SimParameters {
  Function function = Function::kIdentity;
  int64_t service_time_us = 0;
  int64_t service_time_per_item_us = 0;
  double jitter = 0;        // 0..1: batch time scaled by a uniform factor in [1-j, 1+j]
  double failure_rate = 0;  // 0..1: probability that a batch fails
  uint64_t seed = 1;
  // Device memory an instance "uses", MiB: memory_mb after load, plus memory_mb_per_item for
  // each item of the largest batch it has executed (activations). What the sim plugin reports
  // through SyInstanceDeviceMemory, hence what `vram_mb: measure` finds.
  int64_t memory_mb = 0;
  int64_t memory_mb_per_item = 0;
  // Fault injection for isolation tests (worker processes only): the worker dies with SIGSEGV
  // on a request whose first input's first element equals crash_on_value (integer inputs), or
  // while loading.
  std::optional<int64_t> crash_on_value;
  bool crash_at_load = false;
  // Fault injection for device-loss tests (worker processes only): a batch holding a request
  // whose first input's first element equals device_lost_on_value fails with
  // SY_ERROR_DEVICE_LOST, as a sticky CUDA error would.
  std::optional<int64_t> device_lost_on_value;
};

// Validates the model's `parameters` (unknown keys, ranges) and that the model's inputs and
// outputs suit the function (add_sub: two inputs and two outputs of one numeric type;
// add_sub_string: BYTES; identity: as many outputs as inputs; zeros: outputs of fixed shape and
// a numeric type, answered with zeros, as a stand-in with a real model's signature).
StatusOr<SimParameters> ParseSimParameters(const ModelConfig& config);

// The time a batch of `items` items takes, before jitter.
Duration BatchServiceTime(const SimParameters& params, int64_t items);

// The random part of one batch: its service-time scale (jitter) and whether it fails.
struct BatchDraw {
  double scale = 1.0;
  bool fail = false;
};
BatchDraw DrawBatch(const SimParameters& params, std::mt19937_64& rng);
// The error of a request in a batch that DrawBatch failed.
Status InjectedFailure(std::string_view instance, const SimParameters& params);

// The fault `request` injects: kCrash when its first input's first element (an integer) equals
// params.crash_on_value, kDeviceLost when it equals params.device_lost_on_value.
enum class InjectedFault { kNone, kCrash, kDeviceLost };
InjectedFault FaultOf(const SimParameters& params, const InferRequest& request);

// Computes one request's outputs, named after the config's outputs (by position).
// InvalidArgument for inputs the function cannot take (e.g. a BYTES element that is not an
// integer for add_sub_string).
StatusOr<std::vector<Tensor>> Compute(const SimParameters& params, const ModelConfig& config,
                                      const InferRequest& request);

}  // namespace switchyard::sim
