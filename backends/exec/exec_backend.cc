// The exec backend's C ABI entry points (include/switchyard/backend.h). Each catches every
// exception and turns a Status into an SyError: nothing C++ crosses the boundary.

#include <dlfcn.h>

#include <cstddef>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>

#include "exec/exec_context.h"
#include "exec/exec_instance.h"
#include "exec/exec_parameters.h"
#include "exec/host_batch.h"
#include "exec/model_spec.h"
#include "exec/spawner.h"
#include "exec/status.h"
#include "switchyard/backend.h"

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

SyError* ToError(const SyHostApi* host, const Status& status) {
  if (status.ok()) return nullptr;
  return host->error_new(status.code(), status.message().c_str());
}

SyError* Unexpected(const SyHostApi* host, const char* where) {
  std::string message = std::string("exec backend: unexpected failure in ") + where;
  try {
    throw;
  } catch (const std::exception& e) {
    message += ": ";
    message += e.what();
  } catch (...) {
  }
  return host->error_new(SY_ERROR_INTERNAL, message.c_str());
}

Status CheckModelDesc(const SyModelDesc* desc) {
  if (desc == nullptr ||
      desc->struct_size < offsetof(SyModelDesc, parameter_count) + sizeof(desc->parameter_count)) {
    return Status(SY_ERROR_UNSUPPORTED, "exec backend: the host's SyModelDesc is too old");
  }
  if (desc->version_dir == nullptr || desc->version_dir[0] != '/') {
    return InvalidArgument("exec backend: the model's version folder is not an absolute path");
  }
  return Status();
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

StatusOr<ExecParameters> ParseParameters(const ModelSpec& model) {
  const char* path = std::getenv("PATH");
  std::string_view path_env = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  if (model.python()) {
    return ParsePythonParameters(model.parameters, model.version_dir, path_env, RunnerScript());
  }
  return ParseExecParameters(model.parameters, model.version_dir, path_env);
}

}  // namespace
}  // namespace switchyard::exec

using switchyard::exec::Backend;
using switchyard::exec::Instance;
using switchyard::exec::Model;

extern "C" {

SY_EXPORT uint32_t SyBackendApiVersion(void) { return SY_BACKEND_API_VERSION; }

SY_EXPORT SyError* SyBackendInit(const SyHostApi* host, void** backend_state) {
  // The host refuses a plugin of another version before calling this, so error_new is where
  // version 1 puts it.
  if (host->api_version != SY_BACKEND_API_VERSION || host->struct_size < sizeof(SyHostApi)) {
    return host->error_new(SY_ERROR_UNSUPPORTED,
                           "exec backend: the host's API version or table size does not match");
  }
  try {
    *backend_state = new Backend(host);
    return nullptr;
  } catch (...) {
    return switchyard::exec::Unexpected(host, "SyBackendInit");
  }
}

SY_EXPORT void SyBackendFini(void* backend_state) {
  try {
    delete static_cast<Backend*>(backend_state);
  } catch (...) {
  }
}

SY_EXPORT SyError* SyModelInit(void* backend_state, const SyModelDesc* desc, void** model_state) {
  auto* backend = static_cast<Backend*>(backend_state);
  try {
    using namespace switchyard::exec;
    Status desc_ok = CheckModelDesc(desc);
    if (!desc_ok.ok()) return ToError(backend->host, desc_ok);
    auto model = std::make_unique<Model>();
    model->context.host = backend->host;
    model->context.spawner = &backend->spawner;
    model->context.model = CopyModelDesc(*desc);
    auto params = ParseParameters(model->context.model);
    // The host names the model in front of the message.
    if (!params.ok()) return ToError(backend->host, params.status());
    model->context.params = std::move(params).value();
    *model_state = model.release();
    return nullptr;
  } catch (...) {
    return switchyard::exec::Unexpected(backend->host, "SyModelInit");
  }
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
  try {
    using namespace switchyard::exec;
    if (desc == nullptr ||
        desc->struct_size < offsetof(SyInstanceDesc, gpu_count) + sizeof(desc->gpu_count)) {
      return host->error_new(SY_ERROR_UNSUPPORTED,
                             "exec backend: the host's SyInstanceDesc is too old");
    }
    auto created = CreateExecInstance(model->context, CopyInstanceDesc(*desc));
    // The host names the instance in front of the message.
    if (!created.ok()) return ToError(host, created.status());
    *instance_state = new Instance{host, std::move(created).value()};
    return nullptr;
  } catch (...) {
    return switchyard::exec::Unexpected(host, "SyInstanceInit");
  }
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
  try {
    switchyard::exec::HostBatch host_batch(host, batch);
    return switchyard::exec::ToError(host, instance->impl->Execute(host_batch));
  } catch (...) {
    return switchyard::exec::Unexpected(host, "SyInstanceExecute");
  }
}

// Two for a persistent program that reads its next batch while it works on one (a pipelined
// program: the Python runner), else one.
SY_EXPORT uint32_t SyInstanceConcurrency(void* instance_state) {
  return static_cast<Instance*>(instance_state)->impl->Concurrency();
}

// SyInstanceDeviceMemory is not exported: the program's device memory is not visible to the
// plugin, so GPU programs declare `instances.vram_mb`.

}  // extern "C"
