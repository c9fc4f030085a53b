// The sim backend as a plugin behind the C ABI (include/switchyard/backend.h), in worker
// processes and, for `isolation: thread`, in the server's own process alike. On a simulated GPU
// the batches of every instance placed there take turns on the device's shared page
// (switchyard/backend_sdk/simulated_gpu.h); a CPU instance just takes its time.

#include <algorithm>
#include <csignal>
#include <cstddef>
#include <cstring>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "sim/sim_model.h"
#include "switchyard/backend.h"
#include "switchyard/backend_sdk/entry.h"
#include "switchyard/backend_sdk/simulated_gpu.h"

namespace switchyard::sim {
namespace {

const SyHostApi* g_host = nullptr;

struct Model {
  SimConfig config;
  SimParameters params;
};

struct Instance {
  const Model* model = nullptr;
  std::string name;
  std::mt19937_64 rng;
  std::unique_ptr<sdk::SimulatedGpu> gpu;  // null: a CPU instance, time passes on its own
  int64_t largest_batch_items = 0;         // of the batches executed so far
};

// Request `request`'s inputs in config order; their memory is the host's, valid during Execute.
sdk::StatusOr<std::vector<SyTensor>> ReadInputs(const Model& model, const SyBatch* batch,
                                                uint32_t request) {
  std::vector<SyTensor> inputs(model.config.inputs.size());
  for (uint32_t i = 0; i < inputs.size(); ++i) {
    if (SyError* error = g_host->request_input(batch, request, i, &inputs[i])) {
      g_host->request_set_error(const_cast<SyBatch*>(batch), request, error);
      return sdk::Internal("cannot read the batch's inputs");
    }
  }
  return inputs;
}

// The items of one request: its first input's batch dimension when the model batches.
int64_t Items(const Model& model, const std::vector<SyTensor>& inputs) {
  if (model.config.max_batch_size > 0 && !inputs.empty() && inputs[0].dim_count > 0) {
    return inputs[0].shape[0];
  }
  return 1;
}

// Writes one request's outputs into host memory.
void WriteOutputs(SyBatch* batch, uint32_t request, const std::vector<OutputTensor>& outputs) {
  for (uint32_t o = 0; o < outputs.size(); ++o) {
    const OutputTensor& tensor = outputs[o];
    void* data = nullptr;
    if (SyError* error = g_host->request_output_alloc(batch, request, o, tensor.shape.data(),
                                                      static_cast<uint32_t>(tensor.shape.size()),
                                                      tensor.data.size(), &data)) {
      return g_host->request_set_error(batch, request, error);
    }
    if (!tensor.data.empty()) std::memcpy(data, tensor.data.data(), tensor.data.size());
  }
}

// Sends one partial response of `request` made of `outputs` (a host without the function
// takes none). False when the host refused it: the request has then been failed.
bool SendPartial(SyBatch* batch, uint32_t request, const std::vector<OutputTensor>& outputs) {
  if (g_host->struct_size < offsetof(SyHostApi, request_send_partial) + sizeof(void*) ||
      g_host->request_send_partial == nullptr) {
    return true;
  }
  std::vector<SyOutput> views;
  for (uint32_t o = 0; o < outputs.size(); ++o) {
    views.push_back({.output = o,
                     .shape = outputs[o].shape.data(),
                     .dim_count = static_cast<uint32_t>(outputs[o].shape.size()),
                     .data = outputs[o].data.data(),
                     .byte_size = outputs[o].data.size()});
  }
  SyError* error = g_host->request_send_partial(batch, request, views.data(),
                                                static_cast<uint32_t>(views.size()));
  if (error == nullptr) return true;
  g_host->request_set_error(batch, request, error);
  return false;
}

// Lets `time` of work pass: on the instance's simulated GPU, or on the CPU.
void Work(Instance& instance, std::chrono::nanoseconds time) {
  if (instance.gpu) {
    instance.gpu->Occupy(time);
  } else {
    std::this_thread::sleep_for(time);
  }
}

SyError* Execute(Instance& instance, SyBatch* batch) {
  const Model& model = *instance.model;
  std::vector<std::vector<SyTensor>> requests(g_host->batch_request_count(batch));
  int64_t items = 0;
  for (uint32_t r = 0; r < requests.size(); ++r) {
    auto inputs = ReadInputs(model, batch, r);
    if (!inputs.ok()) return sdk::ToError(g_host, inputs.status());
    requests[r] = std::move(inputs).value();
    switch (FaultOf(model.params, requests[r])) {  // fault injection
      case InjectedFault::kCrash:
        std::raise(SIGSEGV);
        break;
      case InjectedFault::kDeviceLost:
        return g_host->error_new(SY_ERROR_DEVICE_LOST,
                                 "simulated device loss (parameters.device_lost_on_value)");
      case InjectedFault::kNone:
        break;
    }
    items += Items(model, requests[r]);
  }
  instance.largest_batch_items = std::max(instance.largest_batch_items, items);
  BatchDraw draw = DrawBatch(model.params, instance.rng);
  // Each request's outputs; empty for a request that failed.
  std::vector<std::optional<std::vector<OutputTensor>>> results(requests.size());
  for (uint32_t r = 0; r < requests.size(); ++r) {
    if (draw.fail) {
      sdk::FailRequest(*g_host, batch, r, InjectedFailure(instance.name, model.params));
      continue;
    }
    auto outputs = Compute(model.params, model.config, requests[r]);
    if (!outputs.ok()) {
      sdk::FailRequest(*g_host, batch, r, outputs.status());
      continue;
    }
    results[r] = std::move(outputs).value();
  }
  const auto service = std::chrono::duration_cast<std::chrono::nanoseconds>(
      BatchServiceTime(model.params, items) * draw.scale);
  // The service time in partial_responses + 1 pieces, a round of partial responses after each
  // but the last.
  const auto piece = service / (model.params.partial_responses + 1);
  for (int64_t k = 0; k < model.params.partial_responses; ++k) {
    Work(instance, piece);
    for (uint32_t r = 0; r < requests.size(); ++r) {
      if (results[r] && !SendPartial(batch, r, *results[r])) results[r].reset();
    }
  }
  for (uint32_t r = 0; r < requests.size(); ++r) {
    if (results[r]) WriteOutputs(batch, r, *results[r]);
  }
  Work(instance, service - piece * model.params.partial_responses);
  return nullptr;
}

// The message of an exception that escapes an entry point (sdk::GuardedCall's `describe`).
std::string Failure(const char* what) {
  return what != nullptr ? what : "unknown exception in the sim backend";
}

}  // namespace
}  // namespace switchyard::sim

namespace sdk = switchyard::sdk;
using switchyard::sim::g_host;

extern "C" {

SY_EXPORT uint32_t SyBackendApiVersion(void) { return SY_BACKEND_API_VERSION; }

SY_EXPORT SyError* SyBackendInit(const SyHostApi* host, void** backend_state) {
  g_host = host;
  *backend_state = nullptr;
  return nullptr;
}

SY_EXPORT void SyBackendFini(void*) {}

SY_EXPORT SyError* SyModelInit(void*, const SyModelDesc* desc, void** model_state) {
  using namespace switchyard::sim;
  return sdk::GuardedCall(
      g_host,
      [&]() -> sdk::Status {
        auto model = std::make_unique<Model>();
        model->config = ConfigOf(*desc);
        SY_ASSIGN_OR_RETURN(model->params, ParseSimParameters(model->config));
        if (model->params.crash_at_load) std::raise(SIGSEGV);  // fault injection
        *model_state = model.release();
        return sdk::Status::Ok();
      },
      Failure);
}

SY_EXPORT void SyModelFini(void* model_state) {
  delete static_cast<switchyard::sim::Model*>(model_state);
}

SY_EXPORT SyError* SyInstanceInit(void* model_state, const SyInstanceDesc* desc,
                                  void** instance_state) {
  using namespace switchyard::sim;
  return sdk::GuardedCall(
      g_host,
      [&]() -> sdk::Status {
        const auto* model = static_cast<const Model*>(model_state);
        auto instance = std::make_unique<Instance>();
        instance->model = model;
        instance->name = desc->name;
        instance->rng.seed(model->params.seed + static_cast<uint64_t>(desc->index));
        if (std::string_view gpu = sdk::SimulatedGpuOf(*desc); !gpu.empty()) {
          SY_ASSIGN_OR_RETURN(instance->gpu, sdk::SimulatedGpu::Open(gpu));
        }
        *instance_state = instance.release();
        return sdk::Status::Ok();
      },
      Failure);
}

SY_EXPORT void SyInstanceFini(void* instance_state) {
  delete static_cast<switchyard::sim::Instance*>(instance_state);
}

SY_EXPORT SyError* SyInstanceExecute(void* instance_state, SyBatch* batch) {
  using namespace switchyard::sim;
  return sdk::GuardedCall(
      g_host, [&] { return Execute(*static_cast<Instance*>(instance_state), batch); }, Failure);
}

// What the instance would hold on a GPU: memory_mb, plus memory_mb_per_item for each item of
// the largest batch it has executed (its warm-up at max batch sets the peak).
SY_EXPORT SyError* SyInstanceDeviceMemory(void* instance_state, uint64_t* bytes) {
  const auto* instance = static_cast<const switchyard::sim::Instance*>(instance_state);
  const auto& params = instance->model->params;
  const auto mb = static_cast<uint64_t>(params.memory_mb) +
                  static_cast<uint64_t>(params.memory_mb_per_item) *
                      static_cast<uint64_t>(instance->largest_batch_items);
  *bytes = mb * 1024 * 1024;
  return nullptr;
}

// The planner's view: the memory an instance reports after a warm-up at max batch, and a
// simulated GPU runs one batch at a time however many instances it holds (no overlap). Refuses
// the config as SyModelInit would, the memory parameters first.
SY_EXPORT SyError* SyModelPlacementHints(const SyHostApi* host, const SyModelDesc* desc,
                                         SyPlacementHints* hints) {
  using namespace switchyard::sim;
  return sdk::GuardedCall(
      host,
      [&]() -> sdk::Status {
        const SimConfig config = ConfigOf(*desc);
        SY_ASSIGN_OR_RETURN(int64_t memory_mb, DeviceMemoryMb(config));
        SY_RETURN_IF_ERROR(ParseSimParameters(config).status());
        if (hints->struct_size >=
            offsetof(SyPlacementHints, device_memory_mb) + sizeof(hints->device_memory_mb)) {
          hints->device_memory_known = 1;
          hints->device_memory_mb = static_cast<uint64_t>(memory_mb);
        }
        if (hints->struct_size >=
            offsetof(SyPlacementHints, overlaps_on_device) + sizeof(hints->overlaps_on_device)) {
          hints->overlaps_on_device = 0;
        }
        return sdk::Status::Ok();
      },
      Failure);
}

}  // extern "C"
