#include "instance/shm_tensors.h"

#include <algorithm>
#include <cstring>

#include "fmt/format.h"
#include "ipc/slot_arena.h"
#include "switchyard/backend.h"

namespace switchyard {
namespace {

const Tensor* FindInput(const InferRequest& request, const std::string& name) {
  auto it = std::find_if(request.inputs.begin(), request.inputs.end(),
                         [&](const Tensor& t) { return t.name == name; });
  return it == request.inputs.end() ? nullptr : &*it;
}

uint64_t RequestedMask(const InferRequest& request) {
  if (request.output_indices.empty()) return ~uint64_t{0};
  uint64_t mask = 0;
  for (uint32_t index : request.output_indices) {
    if (index < 64) mask |= uint64_t{1} << index;
  }
  return mask;
}

StatusOr<Tensor> ReadTensor(const ModelConfig& config, const ipc::TensorRef& ref,
                            const OutputMemory& memory) {
  if (ref.index >= config.outputs.size()) {
    return Internal(fmt::format("the worker answered output {} of a model with {}", ref.index,
                                config.outputs.size()));
  }
  const TensorSpec& spec = config.outputs[ref.index];
  std::span<const std::byte> region = memory.slot;
  if (ref.region != 0) {
    const ipc::ShmRegion* found = nullptr;
    if (memory.regions != nullptr && memory.keeper != nullptr) {
      auto it = memory.regions->find(ref.region);
      if (it != memory.regions->end()) found = it->second.get();
    }
    if (found == nullptr) {
      return Internal(
          fmt::format("the worker answered output '{}' in region {}, which it never announced",
                      spec.name, ref.region));
    }
    region = {found->data(), found->size()};
  }
  if (ref.datatype != static_cast<uint32_t>(spec.datatype) ||
      !ipc::TensorFits(ref, region.size())) {
    return Internal(fmt::format("the worker answered a malformed output '{}'", spec.name));
  }
  auto bytes = region.subspan(ref.offset, ref.size);
  Tensor tensor{.name = spec.name,
                .datatype = spec.datatype,
                .shape = ref.shape,
                .data = ref.region != 0 ? TensorData::Shared(bytes, memory.keeper)
                                        : TensorData::Owned({bytes.begin(), bytes.end()})};
  if (Status valid = tensor.Validate(); !valid.ok()) {
    return Internal("the backend wrote a malformed output: " + valid.message());
  }
  return tensor;
}

RequestOutputs ReadRequest(const ModelConfig& config, const ipc::RequestResult& answer,
                           const OutputMemory& memory) {
  if (answer.code != 0) {
    auto code = static_cast<StatusCode>(answer.code);
    if (code == StatusCode::kAborted) code = StatusCode::kInternal;
    return Status(code, answer.message);
  }
  std::vector<Tensor> outputs;
  for (const ipc::TensorRef& ref : answer.outputs) {
    ASSIGN_OR_RETURN(Tensor tensor, ReadTensor(config, ref, memory));
    outputs.push_back(std::move(tensor));
  }
  return outputs;
}

}  // namespace

std::optional<BodyPlace> FindInBody(const InferRequest& request, const Tensor& tensor) {
  const SharedMemoryBlock* memory = request.payload.shared();
  if (memory == nullptr) return std::nullopt;
  std::span<const std::byte> body = request.payload.bytes();
  std::span<const std::byte> bytes = tensor.data.bytes();
  if (bytes.empty() || bytes.data() < body.data() ||
      bytes.data() + bytes.size() > body.data() + body.size()) {
    return std::nullopt;
  }
  uint64_t offset = memory->offset_in_region() + static_cast<uint64_t>(bytes.data() - body.data());
  if (offset % ipc::SlotArena::kAlignment != 0) return std::nullopt;
  return BodyPlace{.memory = memory, .offset = offset};
}

uint64_t SlotInputBytes(std::span<InferRequest* const> requests) {
  uint64_t total = 0;
  for (const InferRequest* request : requests) {
    for (const Tensor& input : request->inputs) {
      if (!FindInBody(*request, input)) total += ipc::SlotArena::AlignUp(input.data.size());
    }
  }
  return total + ipc::SlotArena::AlignUp(requests.size());  // the cancel flags
}

WrittenInputs WriteInputs(const ModelConfig& config, std::span<InferRequest* const> requests,
                          std::span<std::byte> region, ipc::Execute* execute) {
  WrittenInputs written;
  ipc::SlotArena arena(region);
  execute->requests.assign(requests.size(), {});
  for (std::size_t r = 0; r < requests.size(); ++r) {
    execute->requests[r].requested_outputs = RequestedMask(*requests[r]);
    execute->requests[r].parameters = requests[r]->parameters;
    execute->requests[r].takes_partials = requests[r]->partial != nullptr;
  }
  for (uint32_t i = 0; i < config.inputs.size(); ++i) {
    for (std::size_t r = 0; r < requests.size(); ++r) {
      ipc::RequestRef& ref = execute->requests[r];
      const Tensor* input = FindInput(*requests[r], config.inputs[i].name);
      auto bytes = input->data.bytes();
      ipc::TensorRef tensor{.index = i,
                            .datatype = static_cast<uint32_t>(input->datatype),
                            .shape = input->shape,
                            .size = bytes.size()};
      if (auto place = FindInBody(*requests[r], *input)) {
        tensor.region = place->memory->region_id();
        tensor.offset = place->offset;
        written.in_place_bytes += bytes.size();
        auto& regions = written.regions;
        if (std::none_of(regions.begin(), regions.end(), [&](const SharedMemoryBlock* known) {
              return known->region_id() == tensor.region;
            })) {
          regions.push_back(place->memory);
        }
      } else {
        tensor.offset = *arena.Allocate(bytes.size());
        if (!bytes.empty()) std::memcpy(region.data() + tensor.offset, bytes.data(), bytes.size());
        written.copied_bytes += bytes.size();
      }
      ref.inputs.push_back(std::move(tensor));
    }
  }
  execute->cancel_flags = *arena.Allocate(requests.size());
  std::memset(region.data() + execute->cancel_flags, SY_NOT_CANCELLED, requests.size());
  return written;
}

bool NamesOutputRegions(const ipc::Result& result) {
  for (const ipc::RequestResult& answer : result.requests) {
    for (const ipc::TensorRef& ref : answer.outputs) {
      if (ref.region != 0) return true;
    }
  }
  return false;
}

std::vector<RequestOutputs> ReadOutputs(const ModelConfig& config, const ipc::Result& result,
                                        const OutputMemory& memory, std::size_t request_count) {
  std::vector<RequestOutputs> outputs;
  if (result.requests.size() != request_count) {
    Status wrong = Internal(fmt::format("the worker answered {} requests of a batch of {}",
                                        result.requests.size(), request_count));
    for (std::size_t i = 0; i < request_count; ++i) outputs.emplace_back(wrong);
    return outputs;
  }
  for (const ipc::RequestResult& answer : result.requests) {
    outputs.push_back(ReadRequest(config, answer, memory));
  }
  return outputs;
}

}  // namespace switchyard
