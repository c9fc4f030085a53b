#pragma once
// The outputs of a partial response (SyHostApi::request_send_partial) as the host takes them
// from a plugin, in process or, after the trip from a worker, in the server: the checks, and
// the copy into tensors that own their bytes.

#include <span>
#include <vector>

#include "switchyard/backend.h"
#include "switchyard/model_config.h"
#include "switchyard/status.h"
#include "switchyard/tensor.h"

namespace switchyard::plugin {

// The most dims a partial output's shape may have (the worker's messages carry no more).
inline constexpr std::size_t kMaxPartialOutputDims = 16;

// Checks `outputs` against `config`: each names a config output, at most once, with at most
// kMaxPartialOutputDims dims and a byte size that fits its shape (CheckOutputSize; BYTES
// elements well formed), data present when bytes are, and at most
// SY_MAX_PARTIAL_RESPONSE_BYTES in all. InvalidArgument naming the first problem.
Status CheckPartialOutputs(const ModelConfig& config, std::span<const SyOutput> outputs);

// The outputs as tensors (config names and datatypes) owning a copy of their bytes, in the order
// given. REQUIRES: CheckPartialOutputs(config, outputs) is OK.
std::vector<Tensor> CopyPartialOutputs(const ModelConfig& config,
                                       std::span<const SyOutput> outputs);

}  // namespace switchyard::plugin
