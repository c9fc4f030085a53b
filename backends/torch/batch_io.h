#pragma once
// Moves one group's tensors between the requests' host buffers and the instance's device:
// concatenation of the requests' inputs along dimension 0, and the split of the outputs back to
// the requests. Runs on the instance's thread, with its stream current (CUDA).

#include <torch/script.h>

#include <vector>

#include "batch_plan.h"
#include "device_context.h"
#include "switchyard/backend.h"
#include "switchyard/backend_sdk/status.h"
#include "torch_model.h"

namespace switchyard::torch_backend {

// One request's inputs in config order, as request_input gave them (valid during Execute).
using RequestInputs = std::vector<SyTensor>;

// The group's inputs on the device, one tensor per config input: the rows of the group's
// requests in group order (batched) or the one request's tensor (not batched). They are
// gathered into one host tensor per input (pinned on CUDA) and copied to the device on the
// current stream without waiting; on CUDA, a batched input whose requests' buffers all lie in
// host memory the device page-locked (DeviceContext::RegisterHostMemory) is copied from them
// straight to the device instead, one copy per run of adjacent buffers. The buffers must stay
// valid until the stream has done the copies (the caller synchronises before returning).
// `pad_rows` > group.total_rows appends zero rows (to reach a captured CUDA graph's batch size).
// REQUIRES: `inputs[r]` holds the validated inputs of every request r of the group.
std::vector<torch::Tensor> GatherInputs(const TorchModel& model, const BatchGroup& group,
                                        const std::vector<RequestInputs>& inputs,
                                        const DeviceContext& device, int64_t pad_rows);

// The outputs in host memory: device tensors are copied into pinned staging tensors (one copy
// per output for the whole group, then one wait on the stream); host tensors are returned as
// they are. Copying the whole output once into pinned memory and then into each request's
// buffer beats a device-to-host copy per request: each of those costs a driver call, and a copy
// into pageable memory is staged through pinned memory by the driver anyway.
// `*host_outputs` (cleared first) gets each one as it is made, before the wait, so that the
// caller holds every tensor involved even when the wait throws: after a sticky CUDA error,
// freeing a CUDA or pinned tensor throws from inside its destructor, which aborts the process.
void OutputsToHost(const std::vector<torch::Tensor>& outputs, const DeviceContext& device,
                   std::vector<torch::Tensor>* host_outputs);

// Writes each request's rows of `outputs` (host tensors in config order, already checked
// against the config) straight into the buffers request_output_alloc gives, for the outputs the
// request asked for. A request whose allocation fails is failed with that error and marked in
// `failed` (indexed by request).
void ScatterOutputs(const SyHostApi& host, SyBatch* batch, const TorchModel& model,
                    const BatchGroup& group, const std::vector<torch::Tensor>& outputs,
                    std::vector<char>* failed);

}  // namespace switchyard::torch_backend
