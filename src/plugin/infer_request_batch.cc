#include "plugin/infer_request_batch.h"

#include <algorithm>

#include "fmt/format.h"
#include "plugin/host_api.h"
#include "plugin/partial_outputs.h"

namespace switchyard::plugin {

InferRequestBatch::InferRequestBatch(const ModelConfig* config,
                                     std::span<InferRequest* const> requests)
    : config_(config),
      requests_(requests),
      inputs_(requests.size()),
      ledger_(config, requests.size()),
      progress_gate_(requests.size(), SteadyClock::Get()) {
  for (std::size_t r = 0; r < requests.size(); ++r) {
    for (const TensorSpec& spec : config->inputs) {
      const auto& inputs = requests[r]->inputs;
      auto it = std::find_if(inputs.begin(), inputs.end(),
                             [&](const Tensor& t) { return t.name == spec.name; });
      inputs_[r].push_back(it == inputs.end() ? nullptr : &*it);
    }
  }
}

Status InferRequestBatch::Input(uint32_t request, uint32_t input, SyTensor* out) const {
  if (request >= inputs_.size() || input >= config_->inputs.size()) {
    return InvalidArgument(fmt::format("no input {} of request {}", input, request));
  }
  const Tensor* tensor = inputs_[request][input];
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
  ASSIGN_OR_RETURN(auto* out, ledger_.Allocate(request, output, std::move(shape), byte_size));
  out->memory.resize(byte_size);
  return static_cast<void*>(out->memory.data());
}

void InferRequestBatch::Progress(uint32_t request, double fraction, std::string_view message) {
  if (request >= requests_.size()) return;
  if (const auto& progress = requests_[request]->progress) (*progress)(fraction, message);
}

bool InferRequestBatch::TakesPartials(uint32_t request) const {
  return request < requests_.size() && requests_[request]->partial != nullptr;
}

Status InferRequestBatch::SendPartial(uint32_t request, std::span<const SyOutput> outputs) {
  requests_[request]->partial->Send(CopyPartialOutputs(*config_, outputs));
  return Status::Ok();
}

SyCancelState InferRequestBatch::Cancelled(uint32_t request) const {
  if (request >= requests_.size()) return SY_NOT_CANCELLED;
  return CancelStateOf(requests_[request]->cancel.get());
}

void InferRequestBatch::SetError(uint32_t request, Status status) {
  ledger_.SetError(request, std::move(status));
}

std::vector<RequestOutputs> InferRequestBatch::Finish(const Status& batch_status) {
  std::vector<RequestOutputs> results;
  results.reserve(ledger_.request_count());
  for (uint32_t r = 0; r < ledger_.request_count(); ++r) {
    if (const Status& outcome = ledger_.Outcome(r, batch_status); !outcome.ok()) {
      results.emplace_back(outcome);
      continue;
    }
    std::vector<Tensor> outputs;
    Status valid;
    auto pending = ledger_.outputs(r);
    for (std::size_t i = 0; i < pending.size() && valid.ok(); ++i) {
      auto& out = pending[i];
      if (!out.allocated) continue;
      const TensorSpec& spec = config_->outputs[i];
      outputs.push_back({.name = spec.name,
                         .datatype = spec.datatype,
                         .shape = std::move(out.shape),
                         .data = TensorData::Owned(std::move(out.memory))});
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
