// The sim backend as a plugin behind the C ABI (include/switchyard/backend.h), for worker
// processes. The same models as the in-process SimInstance (sim_model.h); on a simulated GPU the
// batches of every worker placed there take turns on a SharedSimDevice.

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "shared_sim_device.h"
#include "sim_model.h"
#include "switchyard/backend.h"
#include "switchyard/backend_sdk/entry.h"

namespace switchyard::sim {
namespace {

const SyHostApi* g_host = nullptr;

SyError* ToError(const Status& status) {
  return g_host->error_new(
      status.code() == StatusCode::kInvalidArgument ? SY_ERROR_INVALID_ARGUMENT : SY_ERROR_INTERNAL,
      status.message().c_str());
}

TensorSpec SpecOf(const SyTensorSpec& spec) {
  return {.name = spec.name,
          .datatype = static_cast<DataType>(spec.datatype),
          .dims = Shape(spec.dims, spec.dims + spec.dim_count)};
}

ModelConfig ConfigOf(const SyModelDesc& desc) {
  ModelConfig config;
  config.name = desc.name;
  config.backend = "sim";
  config.max_batch_size = desc.max_batch_size;
  for (uint32_t i = 0; i < desc.input_count; ++i) config.inputs.push_back(SpecOf(desc.inputs[i]));
  for (uint32_t i = 0; i < desc.output_count; ++i) {
    config.outputs.push_back(SpecOf(desc.outputs[i]));
  }
  for (uint32_t i = 0; i < desc.parameter_count; ++i) {
    config.parameters[desc.parameters[i].key] = desc.parameters[i].value;
  }
  return config;
}

struct Model {
  ModelConfig config;
  SimParameters params;
};

struct Instance {
  const Model* model;
  std::string name;
  std::mt19937_64 rng;
  std::unique_ptr<SharedSimDevice> device;  // null: a CPU instance, time passes on its own
  int64_t largest_batch_items = 0;          // of the batches executed so far
};

// The batch's requests as InferRequests whose tensors borrow the host's input memory.
StatusOr<std::vector<InferRequest>> ReadRequests(const Model& model, const SyBatch* batch) {
  std::vector<InferRequest> requests(g_host->batch_request_count(batch));
  for (uint32_t r = 0; r < requests.size(); ++r) {
    for (uint32_t i = 0; i < model.config.inputs.size(); ++i) {
      SyTensor t;
      if (SyError* error = g_host->request_input(batch, r, i, &t)) {
        g_host->request_set_error(const_cast<SyBatch*>(batch), r, error);
        return Internal("cannot read the batch's inputs");
      }
      auto data = static_cast<const std::byte*>(t.data);
      requests[r].inputs.push_back(
          {.name = t.name,
           .datatype = static_cast<DataType>(t.datatype),
           .shape = Shape(t.shape, t.shape + t.dim_count),
           .data = TensorData::Borrowed({data, static_cast<std::size_t>(t.byte_size)})});
    }
    const Shape& first = requests[r].inputs.front().shape;
    requests[r].batch_size = model.config.max_batch_size > 0 && !first.empty() ? first[0] : 1;
  }
  return requests;
}

// Writes one request's outputs into host memory.
void WriteOutputs(SyBatch* batch, uint32_t request, const std::vector<Tensor>& outputs) {
  for (uint32_t o = 0; o < outputs.size(); ++o) {
    const Tensor& tensor = outputs[o];
    void* data = nullptr;
    if (SyError* error = g_host->request_output_alloc(batch, request, o, tensor.shape.data(),
                                                      static_cast<uint32_t>(tensor.shape.size()),
                                                      tensor.data.size(), &data)) {
      return g_host->request_set_error(batch, request, error);
    }
    if (tensor.data.size() > 0) std::memcpy(data, tensor.data.bytes().data(), tensor.data.size());
  }
}

SyError* Execute(Instance& instance, SyBatch* batch) {
  const Model& model = *instance.model;
  auto requests = ReadRequests(model, batch);
  if (!requests.ok()) return ToError(requests.status());
  int64_t items = 0;
  for (const InferRequest& request : *requests) {
    switch (FaultOf(model.params, request)) {  // fault injection
      case InjectedFault::kCrash:
        std::raise(SIGSEGV);
        break;
      case InjectedFault::kDeviceLost:
        return g_host->error_new(SY_ERROR_DEVICE_LOST,
                                 "simulated device loss (parameters.device_lost_on_value)");
      case InjectedFault::kNone:
        break;
    }
    items += request.batch_size;
  }
  instance.largest_batch_items = std::max(instance.largest_batch_items, items);
  BatchDraw draw = DrawBatch(model.params, instance.rng);
  for (uint32_t r = 0; r < requests->size(); ++r) {
    if (draw.fail) {
      g_host->request_set_error(batch, r, ToError(InjectedFailure(instance.name, model.params)));
      continue;
    }
    auto outputs = Compute(model.params, model.config, (*requests)[r]);
    if (!outputs.ok()) {
      g_host->request_set_error(batch, r, ToError(outputs.status()));
      continue;
    }
    WriteOutputs(batch, r, *outputs);
  }
  auto service =
      std::chrono::duration_cast<Duration>(BatchServiceTime(model.params, items) * draw.scale);
  if (instance.device) {
    instance.device->Occupy(service);
  } else {
    std::this_thread::sleep_for(service);
  }
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
      [&]() -> SyError* {
        auto model = std::make_unique<Model>();
        model->config = ConfigOf(*desc);
        auto params = ParseSimParameters(model->config);
        if (!params.ok()) return ToError(params.status());
        model->params = *params;
        if (model->params.crash_at_load) std::raise(SIGSEGV);  // fault injection
        *model_state = model.release();
        return nullptr;
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
      [&]() -> SyError* {
        const auto* model = static_cast<const Model*>(model_state);
        auto instance = std::make_unique<Instance>();
        instance->model = model;
        instance->name = desc->name;
        instance->rng.seed(model->params.seed + static_cast<uint64_t>(desc->index));
        if (const char* env = std::getenv(kSimDeviceEnv); env != nullptr && desc->gpu_count > 0) {
          auto device = SharedSimDevice::Open(env);
          if (!device.ok()) return ToError(device.status());
          instance->device = std::move(device).value();
        }
        *instance_state = instance.release();
        return nullptr;
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

}  // extern "C"
