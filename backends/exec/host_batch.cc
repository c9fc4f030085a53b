#include "exec/host_batch.h"

#include <cstddef>
#include <cstring>

#include "exec/output_check.h"
#include "switchyard/backend_sdk/entry.h"

namespace switchyard::exec {

bool HostBatch::Read(const ModelSpec& model, uint32_t r, PendingRequest* out) {
  out->index = r;
  out->view.inputs.clear();
  out->view.wanted_outputs.clear();
  out->view.parameters.clear();
  out->wanted.assign(model.outputs.size(), false);
  for (uint32_t i = 0; i < model.inputs.size(); ++i) {
    SyTensor t;
    std::memset(&t, 0, sizeof(t));
    SyError* error = host_->request_input(batch_, r, i, &t);
    if (error != nullptr) {
      host_->request_set_error(batch_, r, error);
      return false;
    }
    InputView in;
    in.name = t.name != nullptr ? std::string_view(t.name) : std::string_view(model.inputs[i].name);
    in.datatype = t.datatype;
    in.shape = std::span<const int64_t>(t.shape, t.dim_count);
    in.data = std::span<const uint8_t>(static_cast<const uint8_t*>(t.data),
                                       static_cast<size_t>(t.byte_size));
    out->view.inputs.push_back(in);
  }
  for (uint32_t o = 0; o < model.outputs.size(); ++o) {
    if (host_->request_output_requested(batch_, r, o) != 0) {
      out->wanted[o] = true;
      out->view.wanted_outputs.push_back(model.outputs[o].name);
    }
  }
  if (host_->struct_size >= offsetof(SyHostApi, request_parameter) + sizeof(void*) &&
      host_->request_parameter_count != nullptr && host_->request_parameter != nullptr) {
    const uint32_t count = host_->request_parameter_count(batch_, r);
    for (uint32_t p = 0; p < count; ++p) {
      const char* key = nullptr;
      const char* value = nullptr;
      SyError* error = host_->request_parameter(batch_, r, p, &key, &value);
      if (error != nullptr) {
        host_->request_set_error(batch_, r, error);
        return false;
      }
      out->view.parameters.emplace_back(key, value);
    }
  }
  out->batch_size = 1;
  if (model.batched() && !out->view.inputs.empty() && !out->view.inputs[0].shape.empty()) {
    out->batch_size = out->view.inputs[0].shape[0];
  }
  return true;
}

void HostBatch::Answer(const ModelSpec& model, const PendingRequest& request,
                       const RequestResult& result) {
  if (!result.ok) {
    Fail(request.index, sdk::Status(result.code, std::string(result.error)));
    return;
  }
  auto matched = MatchOutputs(model, request.wanted, request.batch_size, result.outputs);
  if (!matched.ok()) {
    Fail(request.index, matched.status());
    return;
  }
  AnswerOutputs(request, *matched);
}

void HostBatch::AnswerOutputs(const PendingRequest& request,
                              const std::vector<const OutputTensor*>& outputs) {
  for (uint32_t o = 0; o < outputs.size(); ++o) {
    const OutputTensor* t = outputs[o];
    if (t == nullptr) continue;
    void* data = nullptr;
    SyError* error =
        host_->request_output_alloc(batch_, request.index, o, t->shape.data(),
                                    static_cast<uint32_t>(t->shape.size()), t->data.size(), &data);
    if (error != nullptr) {
      host_->request_set_error(batch_, request.index, error);
      return;
    }
    if (!t->data.empty()) std::memcpy(data, t->data.data(), t->data.size());
  }
}

void HostBatch::Fail(uint32_t r, const sdk::Status& status) {
  sdk::FailRequest(*host_, batch_, r, status);
}

SyCancelState HostBatch::Cancelled(uint32_t r) const {
  if (host_->struct_size < offsetof(SyHostApi, request_cancelled) + sizeof(void*) ||
      host_->request_cancelled == nullptr) {
    return SY_NOT_CANCELLED;
  }
  return static_cast<SyCancelState>(host_->request_cancelled(batch_, r));
}

void HostBatch::Progress(uint32_t r, double fraction, std::string_view message) const {
  if (host_->struct_size < offsetof(SyHostApi, request_progress) + sizeof(void*) ||
      host_->request_progress == nullptr) {
    return;
  }
  host_->request_progress(batch_, r, fraction, std::string(message).c_str());
}

void HostBatch::SendPartial(const ModelSpec& model, const PendingRequest& request,
                            const std::vector<OutputTensor>& outputs) {
  if (host_->struct_size < offsetof(SyHostApi, request_send_partial) + sizeof(void*) ||
      host_->request_send_partial == nullptr) {
    return;
  }
  auto matched = MatchOutputs(model, request.wanted, request.batch_size, outputs, true);
  if (!matched.ok()) return Fail(request.index, matched.status());
  std::vector<SyOutput> views;
  for (uint32_t o = 0; o < matched->size(); ++o) {
    const OutputTensor* t = (*matched)[o];
    if (t == nullptr) continue;
    views.push_back({.output = o,
                     .shape = t->shape.data(),
                     .dim_count = static_cast<uint32_t>(t->shape.size()),
                     .data = t->data.data(),
                     .byte_size = t->data.size()});
  }
  SyError* error = host_->request_send_partial(batch_, request.index, views.data(),
                                               static_cast<uint32_t>(views.size()));
  if (error != nullptr) host_->request_set_error(batch_, request.index, error);
}

void HostBatch::FailCancelled(uint32_t r, SyCancelState state, const std::string& when) {
  Fail(r, sdk::Unavailable(
              std::string("the request was stopped ") + when + ": " +
              (state == SY_CANCELLED_DEADLINE ? "its timeout passed" : "its client went away")));
}

}  // namespace switchyard::exec
