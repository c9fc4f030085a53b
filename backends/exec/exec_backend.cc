// The exec backend's C ABI entry points (include/switchyard/backend.h). Each catches every
// exception and turns a Status into an SyError (switchyard/backend_sdk/entry.h): nothing C++
// crosses the boundary.

#include <dlfcn.h>

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <string>

#include "exec/exec_context.h"
#include "exec/exec_instance.h"
#include "exec/exec_parameters.h"
#include "exec/host_batch.h"
#include "exec/model_spec.h"
#include "exec/spawner.h"
#include "switchyard/backend.h"
#include "switchyard/backend_sdk/entry.h"
#include "switchyard/backend_sdk/status.h"

namespace switchyard::exec {
namespace {

struct Backend {
  explicit Backend(const SyHostApi* h) : host(h) {}
  const SyHostApi* host;
  Spawner spawner;
};

struct Model {
  ExecContext context;
};

struct Instance {
  const SyHostApi* host;
  std::unique_ptr<ExecInstance> impl;
};

// The message of an exception that escapes entry point `where` (sdk::GuardedCall's `describe`).
auto Unexpected(const char* where) {
  return [where](const char* what) {
    std::string message = std::string("exec backend: unexpected failure in ") + where;
    if (what != nullptr) {
      message += ": ";
      message += what;
    }
    return message;
  };
}

sdk::Status CheckModelDesc(const SyModelDesc* desc) {
  if (desc == nullptr ||
      desc->struct_size < offsetof(SyModelDesc, parameter_count) + sizeof(desc->parameter_count)) {
    return sdk::Status(SY_ERROR_UNSUPPORTED, "exec backend: the host's SyModelDesc is too old");
  }
  if (desc->version_dir == nullptr || desc->version_dir[0] != '/') {
    return sdk::InvalidArgument("exec backend: the model's version folder is not an absolute path");
  }
  return sdk::Status();
}

// The Python runner of `backend: python` models: python/switchyard_runner.py beside this
// plugin's file (the build and the install put clients/python there).
std::string RunnerScript() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&RunnerScript), &info) == 0 || info.dli_fname == nullptr) {
    return "python/switchyard_runner.py";
  }
  std::string plugin = info.dli_fname;
  std::size_t slash = plugin.rfind('/');
  std::string dir = slash == std::string::npos ? "." : plugin.substr(0, slash);
  return dir + "/python/switchyard_runner.py";
}

sdk::StatusOr<ExecParameters> ParseParameters(const ModelSpec& model) {
  const char* path = std::getenv("PATH");
  std::string_view path_env = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  if (model.python()) {
    return ParsePythonParameters(model.parameters, model.version_dir, path_env, RunnerScript());
  }
  return ParseExecParameters(model.parameters, model.version_dir, path_env);
}

}  // namespace
}  // namespace switchyard::exec

namespace sdk = switchyard::sdk;
using switchyard::exec::Backend;
using switchyard::exec::CheckModelDesc;
using switchyard::exec::CopyInstanceDesc;
using switchyard::exec::CopyModelDesc;
using switchyard::exec::CreateExecInstance;
using switchyard::exec::ExecInstance;
using switchyard::exec::HostBatch;
using switchyard::exec::Instance;
using switchyard::exec::Model;
using switchyard::exec::ParseParameters;
using switchyard::exec::Unexpected;

extern "C" {

SY_EXPORT uint32_t SyBackendApiVersion(void) { return SY_BACKEND_API_VERSION; }

SY_EXPORT SyError* SyBackendInit(const SyHostApi* host, void** backend_state) {
  // The host refuses a plugin of another version before calling this, so error_new is where
  // version 1 puts it.
  if (host->api_version != SY_BACKEND_API_VERSION || host->struct_size < sizeof(SyHostApi)) {
    return host->error_new(SY_ERROR_UNSUPPORTED,
                           "exec backend: the host's API version or table size does not match");
  }
  return sdk::GuardedCall(
      host,
      [&] {
        *backend_state = new Backend(host);
        return sdk::Status();
      },
      Unexpected("SyBackendInit"));
}

SY_EXPORT void SyBackendFini(void* backend_state) {
  try {
    delete static_cast<Backend*>(backend_state);
  } catch (...) {
  }
}

SY_EXPORT SyError* SyModelInit(void* backend_state, const SyModelDesc* desc, void** model_state) {
  auto* backend = static_cast<Backend*>(backend_state);
  return sdk::GuardedCall(
      backend->host,
      [&] {
        SY_RETURN_IF_ERROR(CheckModelDesc(desc));
        auto model = std::make_unique<Model>();
        model->context.host = backend->host;
        model->context.spawner = &backend->spawner;
        model->context.model = CopyModelDesc(*desc);
        // The host names the model in front of the message.
        SY_ASSIGN_OR_RETURN(model->context.params, ParseParameters(model->context.model));
        *model_state = model.release();
        return sdk::Status();
      },
      Unexpected("SyModelInit"));
}

SY_EXPORT void SyModelFini(void* model_state) {
  try {
    delete static_cast<Model*>(model_state);
  } catch (...) {
  }
}

SY_EXPORT SyError* SyInstanceInit(void* model_state, const SyInstanceDesc* desc,
                                  void** instance_state) {
  auto* model = static_cast<Model*>(model_state);
  const SyHostApi* host = model->context.host;
  return sdk::GuardedCall(
      host,
      [&] {
        if (desc == nullptr ||
            desc->struct_size < offsetof(SyInstanceDesc, gpu_count) + sizeof(desc->gpu_count)) {
          return sdk::Unsupported("exec backend: the host's SyInstanceDesc is too old");
        }
        // The host names the instance in front of the message.
        SY_ASSIGN_OR_RETURN(std::unique_ptr<ExecInstance> created,
                            CreateExecInstance(model->context, CopyInstanceDesc(*desc)));
        *instance_state = new Instance{host, std::move(created)};
        return sdk::Status();
      },
      Unexpected("SyInstanceInit"));
}

SY_EXPORT void SyInstanceFini(void* instance_state) {
  try {
    delete static_cast<Instance*>(instance_state);
  } catch (...) {
  }
}

SY_EXPORT SyError* SyInstanceExecute(void* instance_state, SyBatch* batch) {
  auto* instance = static_cast<Instance*>(instance_state);
  const SyHostApi* host = instance->host;
  return sdk::GuardedCall(
      host,
      [&] {
        HostBatch host_batch(host, batch);
        return instance->impl->Execute(host_batch);
      },
      Unexpected("SyInstanceExecute"));
}

// Two for a persistent program that reads its next batch while it works on one (a pipelined
// program: the Python runner), else one.
SY_EXPORT uint32_t SyInstanceConcurrency(void* instance_state) {
  return static_cast<Instance*>(instance_state)->impl->Concurrency();
}

// SyInstanceDeviceMemory is not exported: the program's device memory is not visible to the
// plugin, so GPU programs declare `instances.vram_mb`.

}  // extern "C"
