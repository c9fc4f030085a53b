#pragma once
// The sim backend: deterministic CPU models for tests, examples and benchmarks. A sim model
// computes a simple function of its inputs and takes a configurable time per batch,
// `service_time_us + service_time_per_item_us · items`, optionally with jitter and injected
// failures. Parameters (config.yaml `parameters:`) are documented in docs/configuration.md.
// Built against include/switchyard/ alone (backend.h and the backend SDK), like every plugin.
// Thread-safety: values and pure functions.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/backend.h"
#include "switchyard/backend_sdk/bytes.h"
#include "switchyard/backend_sdk/status.h"

namespace switchyard::sim {

// An input or output as the model's config declares it (without the batch dimension).
struct TensorSpec {
  std::string name;
  SyDataType datatype = SY_TYPE_FP32;
  std::vector<int64_t> dims;
};

// What the sim backend reads of a model's description.
struct SimConfig {
  std::string name;
  int32_t max_batch_size = 0;  // 0: no batch dimension
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
  std::map<std::string, std::string> parameters;
  // Whether the instances run in the server's own process (`isolation: thread`).
  bool in_server_process = false;
};

// The config `desc` describes (its fields as far as desc->struct_size covers them).
SimConfig ConfigOf(const SyModelDesc& desc);

enum class Function { kIdentity, kAddSub, kAddSubString, kZeros };

inline constexpr int64_t kMaxSimPartialResponses = 1000;

struct SimParameters {
  Function function = Function::kIdentity;
  int64_t service_time_us = 0;
  int64_t service_time_per_item_us = 0;
  double jitter = 0;        // 0..1: batch time scaled by a uniform factor in [1-j, 1+j]
  double failure_rate = 0;  // 0..1: probability that a batch fails
  uint64_t seed = 1;
  // Device memory an instance "uses", MiB: memory_mb after load, plus memory_mb_per_item for
  // each item of the largest batch it has executed (activations). What the plugin reports
  // through SyInstanceDeviceMemory, hence what `vram_mb: measure` finds.
  int64_t memory_mb = 0;
  int64_t memory_mb_per_item = 0;
  // Partial responses per request before its final one (SyHostApi::request_send_partial), each
  // a copy of its final outputs, evenly spread over the batch's service time.
  int64_t partial_responses = 0;
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
// a numeric type, answered with zeros, as a stand-in with a real model's signature). The fault
// injection parameters are refused in the server's own process (`isolation: thread`).
sdk::StatusOr<SimParameters> ParseSimParameters(const SimConfig& config);

// The device memory one instance reports after a warm-up at max batch, MiB: `memory_mb` +
// `memory_mb_per_item` x max(1, max_batch_size) (the integer parameters, defaults 0).
// INVALID_ARGUMENT when one is not an integer >= 0, or the sum is too large.
sdk::StatusOr<int64_t> DeviceMemoryMb(const SimConfig& config);

// The time a batch of `items` items takes, before jitter.
std::chrono::microseconds BatchServiceTime(const SimParameters& params, int64_t items);

// The random part of one batch: its service-time scale (jitter) and whether it fails.
struct BatchDraw {
  double scale = 1.0;
  bool fail = false;
};
BatchDraw DrawBatch(const SimParameters& params, std::mt19937_64& rng);
// The error of a request in a batch that DrawBatch failed.
sdk::Status InjectedFailure(std::string_view instance, const SimParameters& params);

// One request's inputs in config order, as the host gives them (SyHostApi::request_input).
using Inputs = std::span<const SyTensor>;

// The fault a request injects: kCrash when its first input's first element (an integer) equals
// params.crash_on_value, kDeviceLost when it equals params.device_lost_on_value.
enum class InjectedFault { kNone, kCrash, kDeviceLost };
InjectedFault FaultOf(const SimParameters& params, Inputs inputs);

// One output of a request: named and ordered after the config's outputs.
struct OutputTensor {
  std::string name;
  SyDataType datatype = SY_TYPE_FP32;
  std::vector<int64_t> shape;
  std::vector<std::byte> data;
};

// Computes one request's outputs. INVALID_ARGUMENT for inputs the function cannot take (e.g. a
// BYTES element that is not an integer for add_sub_string).
// REQUIRES: inputs.size() == config.inputs.size(); `params` from ParseSimParameters(config).
sdk::StatusOr<std::vector<OutputTensor>> Compute(const SimParameters& params,
                                                 const SimConfig& config, Inputs inputs);

// BYTES elements (4-byte little-endian length, then the bytes): appends one to `out`
// (the SDK's); calls `fn` for each in `buffer` (INVALID_ARGUMENT when the buffer is malformed).
using sdk::AppendBytesElement;
template <typename Fn>
sdk::Status ForEachBytesElement(std::span<const std::byte> buffer, Fn&& fn) {
  std::size_t pos = 0;
  while (pos < buffer.size()) {
    if (buffer.size() - pos < 4) {
      return sdk::InvalidArgument("BYTES data truncated inside an element's 4-byte length");
    }
    uint32_t length = 0;
    for (int i = 0; i < 4; ++i) length |= std::to_integer<uint32_t>(buffer[pos + i]) << (8 * i);
    pos += 4;
    if (buffer.size() - pos < length) {
      return sdk::InvalidArgument("BYTES element of length " + std::to_string(length) +
                                  " runs past the end of the data (" +
                                  std::to_string(buffer.size() - pos) + " bytes left)");
    }
    fn(std::string_view(reinterpret_cast<const char*>(buffer.data() + pos), length));
    pos += length;
  }
  return sdk::Status::Ok();
}

}  // namespace switchyard::sim
