#pragma once
// What a model's backend plugin tells the placement planner about one instance, from the config
// alone (backend.h's optional SyModelPlacementHints): its device memory and whether a second
// instance on one GPU adds throughput. The plugin is only dlopen'ed and asked: no SyBackendInit,
// no model is loaded.
// Thread-safety: PlacementHintReader is thread-safe.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/mutex.h"
#include "switchyard/backend.h"
#include "switchyard/model_config.h"
#include "switchyard/status.h"

namespace switchyard::plugin {

struct PlacementHints {
  // MiB one instance needs on each GPU it spans; nullopt: unknown until an instance has loaded.
  std::optional<int64_t> need_mb;
  // Whether a second instance on one GPU can add throughput.
  bool overlaps_on_device = true;
};

class PlacementHintReader {
 public:
  // Asks the plugins in `backend_directory` (PluginPath); "" asks none (every model gets the
  // defaults).
  explicit PlacementHintReader(std::string backend_directory)
      : directory_(std::move(backend_directory)) {}

  // The hints of `config`'s backend. The defaults (need unknown, overlaps) when its plugin does
  // not exist, cannot be loaded, speaks another API version (loading the model says why, later)
  // or does not export SyModelPlacementHints. An error when the plugin refuses the config (its
  // code and message, prefixed "model '<name>': "), throws, or reports more MiB than fit in an
  // int64_t.
  StatusOr<PlacementHints> Read(const ModelConfig& config) const EXCLUDES(mu_);

 private:
  using HintsFunction = decltype(&SyModelPlacementHints);
  // The plugin's SyModelPlacementHints, or null; looked up once per path.
  HintsFunction Lookup(const std::string& path) const EXCLUDES(mu_);

  const std::string directory_;
  mutable Mutex mu_;
  mutable std::map<std::string, HintsFunction> functions_ GUARDED_BY(mu_);
};

}  // namespace switchyard::plugin
