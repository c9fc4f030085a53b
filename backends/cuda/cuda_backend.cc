// The cuda backend plugin: the C ABI of include/switchyard/backend.h over CudaInstance. Every
// exported function catches everything (switchyard/backend_sdk/entry.h); no C++ exception crosses
// the boundary.

#include <cstddef>
#include <memory>
#include <new>
#include <string>

#include "cuda_config.h"
#include "cuda_instance.h"
#include "switchyard/backend.h"
#include "switchyard/backend_sdk/entry.h"

namespace switchyard::cuda_backend {
namespace {

struct Backend {
  const SyHostApi* host = nullptr;
};

struct Model {
  const SyHostApi* host = nullptr;
  ModelInfo info;
};

struct Instance {
  const SyHostApi* host = nullptr;
  std::unique_ptr<CudaInstance> cuda;
};

// The message of an exception that escapes entry point `where` (sdk::GuardedCall's `describe`).
auto Failure(const char* where) {
  return [where](const char* what) {
    std::string message = std::string("cuda backend: ") + where + ": ";
    try {
      throw;
    } catch (const std::bad_alloc&) {
      return message + "out of host memory";
    } catch (...) {
    }
    return message + (what != nullptr ? what : "unknown exception");
  };
}

// Logs the exception being handled, in a function that cannot return an error.
void LogException(const SyHostApi* host, const char* where) noexcept {
  try {
    if (const char* what = sdk::CurrentExceptionWhat(); what != nullptr) {
      host->log(SY_LOG_ERROR, (std::string("cuda backend: ") + where + ": " + what).c_str());
      return;
    }
  } catch (...) {
  }
  host->log(SY_LOG_ERROR, "cuda backend: unknown exception");
}

}  // namespace
}  // namespace switchyard::cuda_backend

namespace sdk = switchyard::sdk;
using switchyard::cuda_backend::Backend;
using switchyard::cuda_backend::CudaInstance;
using switchyard::cuda_backend::DescribeModel;
using switchyard::cuda_backend::Failure;
using switchyard::cuda_backend::Instance;
using switchyard::cuda_backend::LogException;
using switchyard::cuda_backend::Model;

extern "C" {

SY_EXPORT uint32_t SyBackendApiVersion(void) { return SY_BACKEND_API_VERSION; }

SY_EXPORT SyError* SyBackendInit(const SyHostApi* host, void** backend_state) {
  return sdk::GuardedCall(
      host,
      [&]() -> SyError* {
        if (host->api_version != SY_BACKEND_API_VERSION) {
          return host->error_new(SY_ERROR_UNSUPPORTED,
                                 ("cuda backend: built for backend API version " +
                                  std::to_string(SY_BACKEND_API_VERSION) + ", host has " +
                                  std::to_string(host->api_version))
                                     .c_str());
        }
        if (host->struct_size < offsetof(SyHostApi, request_set_error) + sizeof(void*)) {
          return host->error_new(SY_ERROR_UNSUPPORTED,
                                 "cuda backend: the host's SyHostApi is too small");
        }
        // No CUDA call here: a process that only loads models (no GPU instance) needs no GPU.
        *backend_state = new Backend{.host = host};
        return nullptr;
      },
      Failure("SyBackendInit"));
}

SY_EXPORT void SyBackendFini(void* backend_state) { delete static_cast<Backend*>(backend_state); }

SY_EXPORT SyError* SyModelInit(void* backend_state, const SyModelDesc* desc, void** model_state) {
  const SyHostApi* host = static_cast<Backend*>(backend_state)->host;
  return sdk::GuardedCall(
      host,
      [&]() -> SyError* {
        auto model = std::make_unique<Model>();
        model->host = host;
        if (std::string error = DescribeModel(*desc, &model->info); !error.empty()) {
          return host->error_new(SY_ERROR_UNSUPPORTED, error.c_str());
        }
        *model_state = model.release();
        return nullptr;
      },
      Failure("SyModelInit"));
}

SY_EXPORT void SyModelFini(void* model_state) { delete static_cast<Model*>(model_state); }

SY_EXPORT SyError* SyInstanceInit(void* model_state, const SyInstanceDesc* desc,
                                  void** instance_state) {
  const Model* model = static_cast<Model*>(model_state);
  return sdk::GuardedCall(
      model->host,
      [&]() -> SyError* {
        auto instance = std::make_unique<Instance>();
        instance->host = model->host;
        SyError* error = nullptr;
        instance->cuda = CudaInstance::Create(model->host, &model->info, *desc, &error);
        if (instance->cuda == nullptr) return error;
        *instance_state = instance.release();
        return nullptr;
      },
      Failure("SyInstanceInit"));
}

SY_EXPORT void SyInstanceFini(void* instance_state) {
  auto* instance = static_cast<Instance*>(instance_state);
  const SyHostApi* host = instance->host;
  try {
    delete instance;
  } catch (...) {
    LogException(host, "SyInstanceFini");
  }
}

SY_EXPORT SyError* SyInstanceExecute(void* instance_state, SyBatch* batch) {
  auto* instance = static_cast<Instance*>(instance_state);
  return sdk::GuardedCall(
      instance->host, [&]() -> SyError* { return instance->cuda->Execute(batch); },
      Failure("SyInstanceExecute"));
}

SY_EXPORT SyError* SyInstanceDeviceMemory(void* instance_state, uint64_t* bytes) {
  auto* instance = static_cast<Instance*>(instance_state);
  return sdk::GuardedCall(
      instance->host,
      [&]() -> SyError* {
        *bytes = instance->cuda->DeviceBytes();
        return nullptr;
      },
      Failure("SyInstanceDeviceMemory"));
}

}  // extern "C"
