// The torch plugin's exported functions (include/switchyard/backend.h). Each one catches every
// exception and turns it into an SyError (switchyard/backend_sdk/entry.h): nothing may cross the
// C ABI. Torch headers stay out of this file (the model and instance interfaces are torch-free),
// so it compiles quickly.

#include <memory>
#include <string>

#include "switchyard/backend.h"
#include "switchyard/backend_sdk/entry.h"
#include "switchyard/backend_sdk/status.h"
#include "torch_instance.h"
#include "torch_model.h"

namespace {

namespace sdk = switchyard::sdk;
using switchyard::torch_backend::TorchInstance;
using switchyard::torch_backend::TorchModel;

struct BackendState {
  const SyHostApi* host;
};

struct ModelState {
  const SyHostApi* host;
  std::unique_ptr<TorchModel> model;
};

struct InstanceState {
  const SyHostApi* host;
  std::unique_ptr<TorchInstance> instance;
};

// The message of an exception that escapes `what` (sdk::GuardedCall's `describe`).
auto Failure(const char* what) {
  return [what](const char* exception) {
    return std::string(what) + ": " + (exception != nullptr ? exception : "unknown exception");
  };
}

}  // namespace

extern "C" {

SY_EXPORT uint32_t SyBackendApiVersion(void) { return SY_BACKEND_API_VERSION; }

SY_EXPORT SyError* SyBackendInit(const SyHostApi* host, void** backend_state) {
  return sdk::GuardedCall(
      host,
      [&] {
        if (host->api_version != SY_BACKEND_API_VERSION || host->struct_size < sizeof(SyHostApi)) {
          return sdk::Unsupported("torch plugin built for backend API version " +
                                  std::to_string(SY_BACKEND_API_VERSION) +
                                  " (host: " + std::to_string(host->api_version) + ")");
        }
        *backend_state = new BackendState{host};
        return sdk::Status::Ok();
      },
      Failure("torch backend init"));
}

SY_EXPORT void SyBackendFini(void* backend_state) {
  delete static_cast<BackendState*>(backend_state);
}

SY_EXPORT SyError* SyModelInit(void* backend_state, const SyModelDesc* desc, void** model_state) {
  const SyHostApi* host = static_cast<BackendState*>(backend_state)->host;
  return sdk::GuardedCall(
      host,
      [&] {
        auto model = TorchModel::Create(host, *desc);
        if (!model.ok()) return model.status();
        *model_state = new ModelState{host, std::move(model).value()};
        return sdk::Status::Ok();
      },
      Failure("torch model init"));
}

SY_EXPORT void SyModelFini(void* model_state) {
  try {
    delete static_cast<ModelState*>(model_state);
  } catch (...) {  // a destructor that throws must not cross the ABI
  }
}

SY_EXPORT SyError* SyInstanceInit(void* model_state, const SyInstanceDesc* desc,
                                  void** instance_state) {
  auto* model = static_cast<ModelState*>(model_state);
  return sdk::GuardedCall(
      model->host,
      [&] {
        auto instance = TorchInstance::Create(*model->model, *desc);
        if (!instance.ok()) return instance.status();
        *instance_state = new InstanceState{model->host, std::move(instance).value()};
        return sdk::Status::Ok();
      },
      Failure("torch instance init"));
}

SY_EXPORT void SyInstanceFini(void* instance_state) {
  try {
    delete static_cast<InstanceState*>(instance_state);
  } catch (...) {  // a destructor that throws must not cross the ABI
  }
}

SY_EXPORT SyError* SyInstanceExecute(void* instance_state, SyBatch* batch) {
  auto* instance = static_cast<InstanceState*>(instance_state);
  return sdk::GuardedCall(
      instance->host, [&] { return instance->instance->Execute(*instance->host, batch); },
      Failure("torch execute"));
}

SY_EXPORT SyError* SyInstanceHostMemoryMapped(void* instance_state, void* base, uint64_t size) {
  auto* instance = static_cast<InstanceState*>(instance_state);
  return sdk::GuardedCall(
      instance->host, [&] { return instance->instance->HostMemoryMapped(base, size); },
      Failure("torch host memory"));
}

SY_EXPORT void SyInstanceHostMemoryUnmapping(void* instance_state, void* base) {
  try {
    static_cast<InstanceState*>(instance_state)->instance->HostMemoryUnmapping(base);
  } catch (...) {  // nothing may cross the ABI
  }
}

SY_EXPORT SyError* SyInstanceDeviceMemory(void* instance_state, uint64_t* bytes) {
  auto* instance = static_cast<InstanceState*>(instance_state);
  return sdk::GuardedCall(
      instance->host,
      [&] {
        *bytes = instance->instance->DeviceMemory();
        return sdk::Status::Ok();
      },
      Failure("torch device memory"));
}

}  // extern "C"
