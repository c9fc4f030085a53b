// The torch plugin's exported functions (include/switchyard/backend.h). Each one catches every
// exception and turns it into an SyError: nothing may cross the C ABI. Torch headers stay out of
// this file (the model and instance interfaces are torch-free), so it compiles quickly.

#include <exception>
#include <memory>
#include <string>

#include "status.h"
#include "switchyard/backend.h"
#include "torch_instance.h"
#include "torch_model.h"

namespace {

using switchyard::torch_backend::Status;
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

SyError* ToError(const SyHostApi* host, const Status& status) {
  if (status.ok()) return nullptr;
  return host->error_new(status.code(), status.message().c_str());
}

// Runs `body` (returning Status); any exception becomes SY_ERROR_INTERNAL naming `what`.
template <typename Body>
SyError* Guarded(const SyHostApi* host, const char* what, Body&& body) {
  try {
    return ToError(host, body());
  } catch (const std::exception& e) {
    return ToError(host, Status::Internal(std::string(what) + ": " + e.what()));
  } catch (...) {
    return ToError(host, Status::Internal(std::string(what) + ": unknown exception"));
  }
}

}  // namespace

extern "C" {

SY_EXPORT uint32_t SyBackendApiVersion(void) { return SY_BACKEND_API_VERSION; }

SY_EXPORT SyError* SyBackendInit(const SyHostApi* host, void** backend_state) {
  return Guarded(host, "torch backend init", [&] {
    if (host->api_version != SY_BACKEND_API_VERSION || host->struct_size < sizeof(SyHostApi)) {
      return Status::Unsupported("torch plugin built for backend API version " +
                                 std::to_string(SY_BACKEND_API_VERSION) +
                                 " (host: " + std::to_string(host->api_version) + ")");
    }
    *backend_state = new BackendState{host};
    return Status::Ok();
  });
}

SY_EXPORT void SyBackendFini(void* backend_state) {
  delete static_cast<BackendState*>(backend_state);
}

SY_EXPORT SyError* SyModelInit(void* backend_state, const SyModelDesc* desc, void** model_state) {
  const SyHostApi* host = static_cast<BackendState*>(backend_state)->host;
  return Guarded(host, "torch model init", [&] {
    auto model = TorchModel::Create(host, *desc);
    if (!model.ok()) return model.status();
    *model_state = new ModelState{host, std::move(model).value()};
    return Status::Ok();
  });
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
  return Guarded(model->host, "torch instance init", [&] {
    auto instance = TorchInstance::Create(*model->model, *desc);
    if (!instance.ok()) return instance.status();
    *instance_state = new InstanceState{model->host, std::move(instance).value()};
    return Status::Ok();
  });
}

SY_EXPORT void SyInstanceFini(void* instance_state) {
  try {
    delete static_cast<InstanceState*>(instance_state);
  } catch (...) {  // a destructor that throws must not cross the ABI
  }
}

SY_EXPORT SyError* SyInstanceExecute(void* instance_state, SyBatch* batch) {
  auto* instance = static_cast<InstanceState*>(instance_state);
  return Guarded(instance->host, "torch execute",
                 [&] { return instance->instance->Execute(*instance->host, batch); });
}

SY_EXPORT SyError* SyInstanceHostMemoryMapped(void* instance_state, void* base, uint64_t size) {
  auto* instance = static_cast<InstanceState*>(instance_state);
  return Guarded(instance->host, "torch host memory",
                 [&] { return instance->instance->HostMemoryMapped(base, size); });
}

SY_EXPORT void SyInstanceHostMemoryUnmapping(void* instance_state, void* base) {
  try {
    static_cast<InstanceState*>(instance_state)->instance->HostMemoryUnmapping(base);
  } catch (...) {  // nothing may cross the ABI
  }
}

SY_EXPORT SyError* SyInstanceDeviceMemory(void* instance_state, uint64_t* bytes) {
  auto* instance = static_cast<InstanceState*>(instance_state);
  return Guarded(instance->host, "torch device memory", [&] {
    *bytes = instance->instance->DeviceMemory();
    return Status::Ok();
  });
}

}  // extern "C"
