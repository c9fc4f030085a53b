#include "plugin/plugin_library.h"

#include <dlfcn.h>
#include <limits.h>
#include <unistd.h>

#include <filesystem>

#include "fmt/format.h"
#include "plugin/host_api.h"

namespace switchyard::plugin {
namespace {

// Resolves `name` into `*fn`; a missing required symbol is an error naming it.
template <typename Fn>
Status Resolve(void* handle, const std::string& path, const char* name, bool required, Fn* fn) {
  *fn = reinterpret_cast<Fn>(dlsym(handle, name));
  if (*fn == nullptr && required) {
    return InvalidArgument(fmt::format(
        "backend plugin '{}' does not export {} (is it built against switchyard/backend.h?)", path,
        name));
  }
  return Status::Ok();
}

Status ResolveAll(void* handle, const std::string& path, PluginFunctions* f) {
  RETURN_IF_ERROR(Resolve(handle, path, "SyBackendApiVersion", true, &f->api_version));
  RETURN_IF_ERROR(Resolve(handle, path, "SyBackendInit", true, &f->backend_init));
  RETURN_IF_ERROR(Resolve(handle, path, "SyBackendFini", true, &f->backend_fini));
  RETURN_IF_ERROR(Resolve(handle, path, "SyModelInit", true, &f->model_init));
  RETURN_IF_ERROR(Resolve(handle, path, "SyModelFini", true, &f->model_fini));
  RETURN_IF_ERROR(Resolve(handle, path, "SyInstanceInit", true, &f->instance_init));
  RETURN_IF_ERROR(Resolve(handle, path, "SyInstanceFini", true, &f->instance_fini));
  RETURN_IF_ERROR(Resolve(handle, path, "SyInstanceExecute", true, &f->instance_execute));
  RETURN_IF_ERROR(
      Resolve(handle, path, "SyInstanceDeviceMemory", false, &f->instance_device_memory));
  RETURN_IF_ERROR(
      Resolve(handle, path, "SyInstanceHostMemoryMapped", false, &f->instance_host_memory_mapped));
  RETURN_IF_ERROR(Resolve(handle, path, "SyInstanceHostMemoryUnmapping", false,
                          &f->instance_host_memory_unmapping));
  return Resolve(handle, path, "SyInstanceConcurrency", false, &f->instance_concurrency);
}

Status CheckVersionAndInit(const std::string& path, const PluginFunctions& f,
                           void** backend_state) {
  uint32_t version = 0;
  try {
    version = f.api_version();
  } catch (...) {
    return Internal(fmt::format("backend plugin '{}': SyBackendApiVersion threw", path));
  }
  if (version != SY_BACKEND_API_VERSION) {
    return FailedPrecondition(
        fmt::format("backend plugin '{}' was built for backend API version {}, but this server "
                    "speaks version {}: rebuild the plugin against this switchyard/backend.h",
                    path, version, SY_BACKEND_API_VERSION));
  }
  try {
    return TakeError(f.backend_init(HostApi(), backend_state),
                     fmt::format("backend plugin '{}': SyBackendInit: ", path));
  } catch (...) {
    return Internal(fmt::format("backend plugin '{}': SyBackendInit threw an exception", path));
  }
}

}  // namespace

StatusOr<std::unique_ptr<PluginLibrary>> PluginLibrary::Load(const std::string& path) {
  // RTLD_NODELETE: frameworks such as libtorch do not survive being unmapped.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (handle == nullptr) {
    const char* why = dlerror();
    return NotFound(fmt::format("cannot load backend plugin '{}': {}", path,
                                why != nullptr ? why : "unknown error"));
  }
  PluginFunctions functions;
  void* backend_state = nullptr;
  Status status = ResolveAll(handle, path, &functions);
  if (status.ok()) status = CheckVersionAndInit(path, functions, &backend_state);
  if (!status.ok()) {
    dlclose(handle);
    return status;
  }
  return std::unique_ptr<PluginLibrary>(new PluginLibrary(path, handle, functions, backend_state));
}

PluginLibrary::~PluginLibrary() {
  try {
    functions_.backend_fini(backend_state_);
  } catch (...) {
  }
  dlclose(handle_);
}

std::string PluginPath(std::string_view directory, std::string_view backend) {
  return fmt::format("{}/libswitchyard_backend_{}.so", directory, backend);
}

std::string BackendDirectoryBeside(std::string_view executable) {
  return (std::filesystem::path(executable).parent_path().parent_path() / "backends").string();
}

std::string BackendDirectoryBesideThisProgram() {
  char path[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (n <= 0) return "";
  return BackendDirectoryBeside(std::string_view(path, static_cast<std::size_t>(n)));
}

}  // namespace switchyard::plugin
