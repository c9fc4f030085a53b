#include "plugin/infer_request_batch.h"

#include <algorithm>

#include "fmt/format.h"
#include "plugin/host_api.h"

namespace switchyard::plugin {

Status CheckOutputSize(const TensorSpec& spec, const Shape& shape, uint64_t byte_size) {
  int64_t count = ElementCount(shape);
  if (count < 0) {
    return InvalidArgument(
        fmt::format("output '{}': bad shape {}", spec.name, ShapeToString(shape)));
  }
  std::size_t element = DataTypeSize(spec.datatype);
  bool fits = element == 0 ? byte_size >= 4 * static_cast<uint64_t>(count)
                           : byte_size == static_cast<uint64_t>(count) * element;
  if (!fits) {
    return InvalidArgument(fmt::format("output '{}': {} bytes do not fit {} of {}", spec.name,
                                       byte_size, DataTypeName(spec.datatype),
                                       ShapeToString(shape)));
  }
  return Status::Ok();
}

InferRequestBatch::InferRequestBatch(const ModelConfig* config,
                                     std::span<InferRequest* const> requests)
    : config_(config), requests_(requests), pending_(requests.size()) {
  for (std::size_t r = 0; r < requests.size(); ++r) {
    PendingRequest& pending = pending_[r];
    pending.outputs.resize(config->outputs.size());
    for (const TensorSpec& spec : config->inputs) {
      const auto& inputs = requests[r]->inputs;
      auto it = std::find_if(inputs.begin(), inputs.end(),
                             [&](const Tensor& t) { return t.name == spec.name; });
      pending.inputs.push_back(it == inputs.end() ? nullptr : &*it);
    }
  }
}

Status InferRequestBatch::Input(uint32_t request, uint32_t input, SyTensor* out) const {
  if (request >= pending_.size() || input >= config_->inputs.size()) {
    return InvalidArgument(fmt::format("no input {} of request {}", input, request));
  }
  const Tensor* tensor = pending_[request].inputs[input];
  if (tensor == nullptr) {
    return InvalidArgument(
        fmt::format("request {} lacks input '{}'", request, config_->inputs[input].name));
  }
  *out = {.name = tensor->name.c_str(),
          .datatype = ToSyDataType(tensor->datatype),
          .shape = tensor->shape.data(),
          .dim_count = static_cast<uint32_t>(tensor->shape.size()),
          .data = tensor->data.bytes().data(),
          .byte_size = tensor->data.size()};
  return Status::Ok();
}

bool InferRequestBatch::OutputRequested(uint32_t request, uint32_t output) const {
  if (request >= requests_.size() || output >= config_->outputs.size()) return false;
  const auto& requested = requests_[request]->output_indices;
  return requested.empty() ||
         std::find(requested.begin(), requested.end(), output) != requested.end();
}

StatusOr<void*> InferRequestBatch::AllocateOutput(uint32_t request, uint32_t output, Shape shape,
                                                  uint64_t byte_size) {
  if (request >= pending_.size() || output >= config_->outputs.size()) {
    return InvalidArgument(fmt::format("no output {} of request {}", output, request));
  }
  PendingOutput& slot = pending_[request].outputs[output];
  const TensorSpec& spec = config_->outputs[output];
  if (slot.allocated) {
    return InvalidArgument(
        fmt::format("output '{}' of request {} allocated twice", spec.name, request));
  }
  RETURN_IF_ERROR(CheckOutputSize(spec, shape, byte_size));
  slot.allocated = true;
  slot.shape = std::move(shape);
  slot.bytes.resize(byte_size);
  return static_cast<void*>(slot.bytes.data());
}

SyCancelState InferRequestBatch::Cancelled(uint32_t request) const {
  if (request >= requests_.size()) return SY_NOT_CANCELLED;
  return CancelStateOf(requests_[request]->cancel.get());
}

void InferRequestBatch::SetError(uint32_t request, Status status) {
  if (request >= pending_.size() || status.ok()) return;
  if (pending_[request].error.ok()) pending_[request].error = std::move(status);
}

std::vector<RequestOutputs> InferRequestBatch::Finish(const Status& batch_status) {
  std::vector<RequestOutputs> results;
  results.reserve(pending_.size());
  for (PendingRequest& pending : pending_) {
    if (!pending.error.ok()) {
      results.emplace_back(std::move(pending.error));
      continue;
    }
    if (!batch_status.ok()) {
      results.emplace_back(batch_status);
      continue;
    }
    std::vector<Tensor> outputs;
    Status valid;
    for (std::size_t i = 0; i < pending.outputs.size() && valid.ok(); ++i) {
      PendingOutput& out = pending.outputs[i];
      if (!out.allocated) continue;
      const TensorSpec& spec = config_->outputs[i];
      outputs.push_back({.name = spec.name,
                         .datatype = spec.datatype,
                         .shape = std::move(out.shape),
                         .data = TensorData::Owned(std::move(out.bytes))});
      valid = outputs.back().Validate();
    }
    if (valid.ok()) {
      results.emplace_back(std::move(outputs));
    } else {
      results.emplace_back(Internal("the backend wrote a malformed output: " + valid.message()));
    }
  }
  return results;
}

}  // namespace switchyard::plugin
