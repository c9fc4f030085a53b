#include "plugin/placement_hints.h"

#include <dlfcn.h>

#include "fmt/format.h"
#include "plugin/elf_exports.h"
#include "plugin/host_api.h"
#include "plugin/model_description.h"
#include "plugin/plugin_library.h"

namespace switchyard::plugin {

PlacementHintReader::HintsFunction PlacementHintReader::Lookup(const std::string& path) const {
  MutexLock lock(&mu_);
  auto it = functions_.find(path);
  if (it != functions_.end()) return it->second;
  HintsFunction function = nullptr;
  // As PluginLibrary::Load (RTLD_NODELETE: frameworks do not survive being unmapped), without
  // SyBackendInit, and only a plugin that has the export: one without (the torch plugin) is
  // not loaded into the server at all, with its framework. A plugin that cannot be loaded has
  // no hints; loading its model says why.
  void* handle = ElfExports(path, "SyModelPlacementHints")
                     ? dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE)
                     : nullptr;
  if (handle != nullptr) {
    auto version =
        reinterpret_cast<decltype(&SyBackendApiVersion)>(dlsym(handle, "SyBackendApiVersion"));
    bool same_version = false;
    try {
      same_version = version != nullptr && version() == SY_BACKEND_API_VERSION;
    } catch (...) {
    }
    if (same_version) {
      function = reinterpret_cast<HintsFunction>(dlsym(handle, "SyModelPlacementHints"));
    }
    dlclose(handle);  // the library stays mapped (RTLD_NODELETE)
  } else {
    dlerror();  // clears the error
  }
  functions_.emplace(path, function);
  return function;
}

StatusOr<PlacementHints> PlacementHintReader::Read(const ModelConfig& config) const {
  PlacementHints hints;
  if (directory_.empty()) return hints;
  HintsFunction function = Lookup(PluginPath(directory_, config.backend));
  if (function == nullptr) return hints;
  ModelDescription desc(config, 0, "");
  SyPlacementHints answer = {.struct_size = sizeof(SyPlacementHints),
                             .device_memory_known = 0,
                             .device_memory_mb = 0,
                             .overlaps_on_device = 1};
  const std::string context = fmt::format("model '{}': ", config.name);
  try {
    RETURN_IF_ERROR(TakeError(function(HostApi(), desc.get(), &answer), context));
  } catch (...) {
    return Internal(context + "the backend threw an exception in SyModelPlacementHints");
  }
  if (answer.device_memory_known != 0) {
    if (answer.device_memory_mb > static_cast<uint64_t>(INT64_MAX)) {
      return InvalidArgument(
          fmt::format("{}the backend's device memory estimate, {} MiB, is too large", context,
                      answer.device_memory_mb));
    }
    hints.need_mb = static_cast<int64_t>(answer.device_memory_mb);
  }
  hints.overlaps_on_device = answer.overlaps_on_device != 0;
  return hints;
}

}  // namespace switchyard::plugin
