#pragma once
// A backend plugin loaded into this process (include/switchyard/backend.h): dlopen'ed, its API
// version checked against ours, its symbols resolved and SyBackendInit called.
// Thread-safety: immutable after Load; call the functions as backend.h's threading rules allow.

#include <memory>
#include <string>
#include <string_view>

#include "switchyard/backend.h"
#include "switchyard/status.h"

namespace switchyard::plugin {

// The plugin's exported functions. `instance_device_memory`, `instance_host_memory_mapped`,
// `instance_host_memory_unmapping` and `instance_concurrency` may be null (optional exports).
struct PluginFunctions {
  decltype(&SyBackendApiVersion) api_version = nullptr;
  decltype(&SyBackendInit) backend_init = nullptr;
  decltype(&SyBackendFini) backend_fini = nullptr;
  decltype(&SyModelInit) model_init = nullptr;
  decltype(&SyModelFini) model_fini = nullptr;
  decltype(&SyInstanceInit) instance_init = nullptr;
  decltype(&SyInstanceFini) instance_fini = nullptr;
  decltype(&SyInstanceExecute) instance_execute = nullptr;
  decltype(&SyInstanceDeviceMemory) instance_device_memory = nullptr;
  decltype(&SyInstanceHostMemoryMapped) instance_host_memory_mapped = nullptr;
  decltype(&SyInstanceHostMemoryUnmapping) instance_host_memory_unmapping = nullptr;
  decltype(&SyInstanceConcurrency) instance_concurrency = nullptr;
};

class PluginLibrary {
 public:
  // Loads the plugin at `path`. Fails (naming the path) when dlopen fails, a required symbol is
  // missing, the plugin's API version differs from SY_BACKEND_API_VERSION, SyBackendInit fails,
  // or SyBackendApiVersion/SyBackendInit throw.
  static StatusOr<std::unique_ptr<PluginLibrary>> Load(const std::string& path);
  ~PluginLibrary();  // SyBackendFini; the library stays mapped (RTLD_NODELETE)

  PluginLibrary(const PluginLibrary&) = delete;
  PluginLibrary& operator=(const PluginLibrary&) = delete;

  const std::string& path() const { return path_; }
  const PluginFunctions& functions() const { return functions_; }
  void* backend_state() const { return backend_state_; }

 private:
  PluginLibrary(std::string path, void* handle, PluginFunctions functions, void* backend_state)
      : path_(std::move(path)),
        handle_(handle),
        functions_(functions),
        backend_state_(backend_state) {}

  const std::string path_;
  void* const handle_;
  const PluginFunctions functions_;
  void* const backend_state_;
};

// Where the plugin of backend `backend` lives in `directory`:
// "<directory>/libswitchyard_backend_<backend>.so", whatever the name (a plugin may serve several
// names under several files: the build links libswitchyard_backend_python.so to the exec plugin,
// which runs `python` models' Python runner, docs/python-models.md).
std::string PluginPath(std::string_view directory, std::string_view backend);

// Where the plugins are by default: the folder `backends` beside the folder of `executable`
// (build/bin/switchyard: build/backends).
std::string BackendDirectoryBeside(std::string_view executable);

// BackendDirectoryBeside this process's executable ("" when /proc/self/exe cannot be read).
std::string BackendDirectoryBesideThisProgram();

}  // namespace switchyard::plugin
