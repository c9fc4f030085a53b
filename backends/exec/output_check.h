#pragma once
// Checks what a program returned for one request against the model's config, so that a wrong
// shape, datatype or byte count becomes that request's error, never a crash or a corrupt answer.

#include <cstdint>
#include <vector>

#include "exec/frame_protocol.h"
#include "exec/model_spec.h"
#include "switchyard/backend_sdk/status.h"

namespace switchyard::exec {

// Checks `tensor` against `spec`: same datatype, rank = config rank (+1 when `batched`), each
// fixed config dimension equal, the batch dimension equal to `batch_size`, and a byte size that
// fits the shape exactly (for BYTES: exactly that many well-formed elements).
sdk::Status CheckOutput(const TensorInfo& spec, bool batched, int64_t batch_size,
                        const OutputTensor& tensor);

// Matches a request's returned outputs to the config's outputs. Returns, per config output, the
// tensor to answer with, or nullptr where `wanted[i]` is false (returned outputs that were not
// asked for are ignored, but never ones unknown to the config). Errors (for this request only):
// an unknown or duplicate output name, a wanted output missing, or a CheckOutput failure.
// With `partial` (a PARTIAL frame's outputs), any subset of the wanted outputs may come, each
// with its own batch dimension. REQUIRES: wanted.size() == model.outputs.size().
sdk::StatusOr<std::vector<const OutputTensor*>> MatchOutputs(
    const ModelSpec& model, const std::vector<bool>& wanted, int64_t batch_size,
    const std::vector<OutputTensor>& outputs, bool partial = false);

}  // namespace switchyard::exec
