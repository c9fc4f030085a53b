#pragma once
// The server's side of moving a batch through a worker's shared-memory slot: writing the
// requests' inputs into the slot's input region (and describing them in an Execute message),
// and reading a Result's outputs from the output region into tensors. Pure functions.

#include <cstdint>
#include <span>
#include <vector>

#include "instance/instance.h"
#include "ipc/messages.h"
#include "switchyard/model_config.h"

namespace switchyard {

// Bytes enough for the inputs of `requests` in a slot (each tensor 64-byte aligned).
uint64_t SlotInputBytes(std::span<InferRequest* const> requests);

// Copies the inputs of `requests` (validated against `config`) into `region` and fills
// `execute->requests` (each request's inputs in config order). The region holds input 0 of
// every request in request order, then input 1, ...; each tensor starts 64-byte aligned, so the
// tensors of one input lie end to end when their sizes are multiples of 64, and a backend can
// copy them to a device as one batch (SyInstanceHostMemoryMapped).
// REQUIRES: region.size() >= SlotInputBytes(requests).
void WriteInputs(const ModelConfig& config, std::span<InferRequest* const> requests,
                 std::span<std::byte> region, ipc::Execute* execute);

// The outputs of each request of `result`, copied out of `region` and named after `config`.
// A request the worker failed gets its error (kAborted is not a code a worker may send: it
// becomes Internal); a malformed answer (wrong request count, an output outside the region, a
// datatype that is not the config's, bad BYTES) is Internal for the request(s) it concerns.
std::vector<RequestOutputs> ReadOutputs(const ModelConfig& config, const ipc::Result& result,
                                        std::span<const std::byte> region,
                                        std::size_t request_count);

}  // namespace switchyard
