#include "instance/shm_tensors.h"

#include <algorithm>
#include <cstring>

#include "fmt/format.h"
#include "ipc/slot_arena.h"

namespace switchyard {
namespace {

const Tensor* FindInput(const InferRequest& request, const std::string& name) {
  auto it = std::find_if(request.inputs.begin(), request.inputs.end(),
                         [&](const Tensor& t) { return t.name == name; });
  return it == request.inputs.end() ? nullptr : &*it;
}

uint64_t RequestedMask(const ModelConfig& config, const InferRequest& request) {
  if (request.requested_outputs.empty()) return ~uint64_t{0};
  uint64_t mask = 0;
  for (std::size_t i = 0; i < config.outputs.size() && i < 64; ++i) {
    const auto& wanted = request.requested_outputs;
    if (std::find(wanted.begin(), wanted.end(), config.outputs[i].name) != wanted.end()) {
      mask |= uint64_t{1} << i;
    }
  }
  return mask;
}

StatusOr<Tensor> ReadTensor(const ModelConfig& config, const ipc::TensorRef& ref,
                            std::span<const std::byte> region) {
  if (ref.index >= config.outputs.size()) {
    return Internal(fmt::format("the worker answered output {} of a model with {}", ref.index,
                                config.outputs.size()));
  }
  const TensorSpec& spec = config.outputs[ref.index];
  if (ref.datatype != static_cast<uint32_t>(spec.datatype) ||
      !ipc::TensorFits(ref, region.size())) {
    return Internal(fmt::format("the worker answered a malformed output '{}'", spec.name));
  }
  auto bytes = region.subspan(ref.offset, ref.size);
  Tensor tensor{.name = spec.name,
                .datatype = spec.datatype,
                .shape = ref.shape,
                .data = TensorData::Owned(std::vector<std::byte>(bytes.begin(), bytes.end()))};
  if (Status valid = tensor.Validate(); !valid.ok()) {
    return Internal("the backend wrote a malformed output: " + valid.message());
  }
  return tensor;
}

RequestOutputs ReadRequest(const ModelConfig& config, const ipc::RequestResult& answer,
                           std::span<const std::byte> region) {
  if (answer.code != 0) {
    auto code = static_cast<StatusCode>(answer.code);
    if (code == StatusCode::kAborted) code = StatusCode::kInternal;
    return Status(code, answer.message);
  }
  std::vector<Tensor> outputs;
  for (const ipc::TensorRef& ref : answer.outputs) {
    ASSIGN_OR_RETURN(Tensor tensor, ReadTensor(config, ref, region));
    outputs.push_back(std::move(tensor));
  }
  return outputs;
}

}  // namespace

uint64_t SlotInputBytes(std::span<InferRequest* const> requests) {
  uint64_t total = 0;
  for (const InferRequest* request : requests) {
    for (const Tensor& input : request->inputs) total += ipc::SlotArena::AlignUp(input.data.size());
  }
  return total;
}

void WriteInputs(const ModelConfig& config, std::span<InferRequest* const> requests,
                 std::span<std::byte> region, ipc::Execute* execute) {
  ipc::SlotArena arena(region);
  execute->requests.assign(requests.size(), {});
  for (std::size_t r = 0; r < requests.size(); ++r) {
    execute->requests[r].requested_outputs = RequestedMask(config, *requests[r]);
  }
  for (uint32_t i = 0; i < config.inputs.size(); ++i) {
    for (std::size_t r = 0; r < requests.size(); ++r) {
      ipc::RequestRef& ref = execute->requests[r];
      const Tensor* input = FindInput(*requests[r], config.inputs[i].name);
      auto bytes = input->data.bytes();
      uint64_t offset = *arena.Allocate(bytes.size());
      if (!bytes.empty()) std::memcpy(region.data() + offset, bytes.data(), bytes.size());
      ref.inputs.push_back({.index = i,
                            .datatype = static_cast<uint32_t>(input->datatype),
                            .shape = input->shape,
                            .offset = offset,
                            .size = bytes.size()});
    }
  }
}

std::vector<RequestOutputs> ReadOutputs(const ModelConfig& config, const ipc::Result& result,
                                        std::span<const std::byte> region,
                                        std::size_t request_count) {
  std::vector<RequestOutputs> outputs;
  if (result.requests.size() != request_count) {
    Status wrong = Internal(fmt::format("the worker answered {} requests of a batch of {}",
                                        result.requests.size(), request_count));
    for (std::size_t i = 0; i < request_count; ++i) outputs.emplace_back(wrong);
    return outputs;
  }
  for (const ipc::RequestResult& answer : result.requests) {
    outputs.push_back(ReadRequest(config, answer, region));
  }
  return outputs;
}

}  // namespace switchyard
