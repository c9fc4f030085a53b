#include "torch_instance.h"

#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <c10/core/StreamGuard.h>
#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/script.h>

#include <optional>
#include <vector>

#include "batch_io.h"
#include "batch_plan.h"
#include "cuda_graphs.h"
#include "device_context.h"
#include "forward_binding.h"
#include "switchyard/backend_sdk/entry.h"

namespace switchyard::torch_backend {
namespace {

// Grad mode off for the scope: c10::InferenceMode, or torch::NoGradGuard when
// parameters.inference_mode is false.
class InferenceScope {
 public:
  explicit InferenceScope(bool inference_mode) {
    if (inference_mode) {
      inference_.emplace();
    } else {
      no_grad_.emplace();
    }
  }

 private:
  std::optional<c10::InferenceMode> inference_;
  std::optional<torch::NoGradGuard> no_grad_;
};

class TorchInstanceImpl final : public TorchInstance {
 public:
  TorchInstanceImpl(const TorchModel& model, std::unique_ptr<DeviceContext> device,
                    const torch::jit::Module& module, ForwardBinding binding)
      : model_(model), device_(std::move(device)), module_(module), binding_(std::move(binding)) {}

  sdk::Status CaptureGraphs() {
    std::optional<c10::StreamGuard> stream_guard;
    if (device_->stream().has_value()) stream_guard.emplace(*device_->stream());
    InferenceScope inference(model_.parameters().inference_mode);
    auto graphs = CudaGraphs::Capture(model_, *device_, module_, binding_);
    if (!graphs.ok()) return graphs.status();
    graphs_ = std::move(graphs).value();
    return sdk::Status::Ok();
  }

  sdk::Status Execute(const SyHostApi& host, SyBatch* batch) override {
    const uint32_t count = host.batch_request_count(batch);
    const auto input_count = static_cast<uint32_t>(model_.inputs().size());
    std::vector<RequestInputs> inputs(count);
    std::vector<char> failed(count, 0);
    std::vector<uint32_t> ready;
    std::vector<std::vector<Dims>> shapes;
    for (uint32_t r = 0; r < count; ++r) {
      inputs[r].resize(input_count);
      for (uint32_t i = 0; i < input_count && !failed[r]; ++i) {
        if (SyError* error = host.request_input(batch, r, i, &inputs[r][i])) {
          host.request_set_error(batch, r, error);
          failed[r] = 1;
        }
      }
      if (failed[r]) continue;
      if (sdk::Status status = model_.ValidateRequest(inputs[r]); !status.ok()) {
        sdk::FailRequest(host, batch, r, status);
        failed[r] = 1;
        continue;
      }
      ready.push_back(r);
      std::vector<Dims>& request_shapes = shapes.emplace_back();
      for (const SyTensor& tensor : inputs[r]) {
        request_shapes.emplace_back(tensor.shape, tensor.shape + tensor.dim_count);
      }
    }

    std::optional<c10::StreamGuard> stream_guard;
    if (device_->stream().has_value()) stream_guard.emplace(*device_->stream());
    InferenceScope inference(model_.parameters().inference_mode);
    for (const BatchGroup& group : PlanGroups(ready, shapes, model_.batched())) {
      sdk::Status status = RunGroup(host, batch, group, inputs, &failed);
      if (status.ok()) continue;
      if (status.code() == SY_ERROR_DEVICE_LOST) return status;
      for (uint32_t request : group.requests) {
        if (!failed[request]) sdk::FailRequest(host, batch, request, status);
        failed[request] = 1;
      }
    }
    return sdk::Status::Ok();
  }

  uint64_t DeviceMemory() const override { return device_->ReservedBytes(); }

  sdk::Status HostMemoryMapped(void* base, uint64_t size) override {
    SY_RETURN_IF_ERROR(device_->RegisterHostMemory(base, size));
    if (device_->is_cuda()) {
      model_.Log(SY_LOG_INFO, "page-locked " + std::to_string(size >> 10) +
                                  " KiB of shared memory: inputs there go straight to the GPU");
    }
    return sdk::Status::Ok();
  }
  void HostMemoryUnmapping(void* base) override { device_->UnregisterHostMemory(base); }

 private:
  // The tensors of one group, held by RunGroup until it knows how the group ended: after a
  // sticky CUDA error, freeing a CUDA or pinned tensor throws from inside its destructor
  // (libtorch's allocators check the stream), which aborts the process. So they are kept out of
  // the stack that an exception unwinds, and moved into a leaked object when the device is lost
  // (the worker then ends without freeing anything).
  struct GroupTensors {
    std::vector<torch::Tensor> inputs;
    std::vector<torch::Tensor> outputs;
    std::vector<torch::Tensor> host_outputs;
  };

  // Runs one group. Errors: the group's (its requests fail), or SY_ERROR_DEVICE_LOST when the
  // device is unusable since (DeviceContext::Lost; the instance must not run again).
  sdk::Status RunGroup(const SyHostApi& host, SyBatch* batch, const BatchGroup& group,
                       const std::vector<RequestInputs>& inputs, std::vector<char>* failed) {
    GroupTensors tensors;
    sdk::Status status = RunGroupHolding(host, batch, group, inputs, failed, tensors);
    if (!status.ok() && device_->Lost()) {
      (void)new GroupTensors(std::move(tensors));  // leaked on purpose: see GroupTensors
      // The first line: libtorch appends lines of debugging hints to CUDA errors.
      const std::string& message = status.message();
      return sdk::Status(SY_ERROR_DEVICE_LOST,
                         "the CUDA context is unusable: " + message.substr(0, message.find('\n')));
    }
    return status;
  }

  sdk::Status RunGroupHolding(const SyHostApi& host, SyBatch* batch, const BatchGroup& group,
                              const std::vector<RequestInputs>& inputs, std::vector<char>* failed,
                              GroupTensors& t) {
    try {
      const int64_t padded = graphs_ != nullptr ? graphs_->PaddedRows(group.total_rows) : 0;
      t.inputs = GatherInputs(model_, group, inputs, *device_, padded);
      if (padded > 0) {
        auto replayed = graphs_->Replay(padded, t.inputs);
        if (!replayed.ok()) return replayed.status();
        t.outputs = std::move(replayed).value();
      } else {
        auto extracted = ExtractOutputs(binding_.Call(module_, t.inputs), model_.outputs());
        if (!extracted.ok()) return extracted.status();
        t.outputs = std::move(extracted).value();
      }
      const int64_t rows = padded > 0 ? padded : group.total_rows;
      for (size_t o = 0; o < t.outputs.size(); ++o) {
        SY_RETURN_IF_ERROR(ValidateModelOutput(model_.outputs()[o], t.outputs[o].sizes().vec(),
                                               model_.batched(), rows));
        if (padded > 0) t.outputs[o] = t.outputs[o].narrow(0, 0, group.total_rows);
      }
      OutputsToHost(t.outputs, *device_, &t.host_outputs);
      ScatterOutputs(host, batch, model_, group, t.host_outputs, failed);
      return sdk::Status::Ok();
    } catch (const std::exception& e) {
      return sdk::Internal("torch: " + TorchErrorMessage(e));
    }
  }

  const TorchModel& model_;
  std::unique_ptr<DeviceContext> device_;
  torch::jit::Module module_;
  ForwardBinding binding_;
  std::unique_ptr<CudaGraphs> graphs_;  // null without cuda_graph_batch_sizes
};

// Selects the graph executor for the methods run from now on in this process (libtorch keeps
// the choice in globals and reads it when a method first runs).
void SelectJitExecutor(JitExecutor executor) {
  torch::jit::getExecutorMode() = executor != JitExecutor::kLegacy;
  torch::jit::getProfilingMode() = executor == JitExecutor::kProfiling;
}

}  // namespace

sdk::StatusOr<std::unique_ptr<TorchInstance>> TorchInstance::Create(const TorchModel& model,
                                                                    const SyInstanceDesc& desc) {
  auto device = DeviceContext::Create(model, desc.gpu_count);
  if (!device.ok()) return device.status();
  if (model.parameters().intra_op_threads > 0) {
    at::set_num_threads(model.parameters().intra_op_threads);
  }
  at::globalContext().setBenchmarkCuDNN(model.parameters().cudnn_benchmark);
  SelectJitExecutor(model.parameters().jit_executor);
  torch::jit::Module module;
  try {
    module = torch::jit::load(model.model_path(), device.value()->device());
    module.eval();
  } catch (const std::exception& e) {
    return sdk::Internal("cannot load TorchScript model '" + model.model_path() +
                         "': " + TorchErrorMessage(e));
  }
  auto binding = ForwardBinding::Create(module, model.inputs(), model.parameters().input_binding);
  if (!binding.ok()) return binding.status();
  const std::string device_text = device.value()->device().str();
  auto instance = std::make_unique<TorchInstanceImpl>(model, std::move(device).value(), module,
                                                      std::move(binding).value());
  if (!model.parameters().cuda_graph_batch_sizes.empty()) {
    try {
      SY_RETURN_IF_ERROR(instance->CaptureGraphs());
    } catch (const std::exception& e) {
      return sdk::Internal("CUDA graph capture failed: " + TorchErrorMessage(e));
    }
  }
  model.Log(SY_LOG_INFO, std::string("instance '") + (desc.name != nullptr ? desc.name : "") +
                             "' loaded '" + model.model_path() + "' on " + device_text);
  return std::unique_ptr<TorchInstance>(std::move(instance));
}

}  // namespace switchyard::torch_backend
