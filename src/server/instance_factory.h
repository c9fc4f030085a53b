#pragma once
// Makes a model's instances as its config and placement say: in a worker process each
// (`isolation: process`), or in the server (`isolation: thread`: its plugin loaded here). Owns
// what instances of several models share: the simulated GPUs, the plugins loaded into the server,
// and the reader of the plugins' placement hints.
// Thread-safety: Create from one thread at a time; the simulated GPUs and placement_hints() are
// thread-safe.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "devices/device.h"
#include "devices/placement.h"
#include "devices/shared_simulated_gpu.h"
#include "instance/instance.h"
#include "plugin/placement_hints.h"
#include "plugin/plugin_library.h"
#include "plugin/plugin_model.h"
#include "switchyard/clock.h"
#include "switchyard/model_config.h"

namespace switchyard {

// A model's instances and what they need kept alive (an in-process plugin model).
struct ModelInstances {
  std::unique_ptr<plugin::PluginModel> plugin_model;  // `isolation: thread` plugins only
  std::vector<std::unique_ptr<Instance>> instances;
  // Whether the instances still need the server's warm-up (workers warm up themselves).
  bool need_warmup = false;
  // Per instance (`isolation: process` only, else empty): the device memory its worker reported
  // after load and warm-up, bytes (0 when the backend does not report any).
  std::vector<uint64_t> device_memory_bytes;
};

class InstanceFactory {
 public:
  struct Options {
    std::string model_repository;
    std::string backend_directory;  // see ServerOptions
    std::string worker_executable;
    // ProcessInstanceOptions::poll of every worker's reader, and the worker's own (its
    // --poll-us: how long it spins for its next batch).
    Duration poll{};
    // What a worker (pid) and the processes it started hold on the given GPUs, bytes, the most
    // on any one (instances.recycle_vram_mb); null: it cannot be measured (no NVML).
    std::function<std::optional<uint64_t>(const std::vector<int>& gpus, long pid)>
        process_device_memory;
  };
  // Creates the simulated GPUs of `devices` (all simulated, or none).
  static StatusOr<std::unique_ptr<InstanceFactory>> Create(Options options,
                                                           const std::vector<Device>& devices);

  // Makes the instances of `config` (version `version`, folder `model_dir`), one per placement,
  // numbered from `first_index` ("model/<first_index + i>"). `config` must outlive them. Fails
  // with a message naming the model: a config the backend refuses, a missing plugin, a worker
  // that fails to load (UNAVAILABLE).
  // Thread-safety: for `isolation: process` models, calls may run concurrently (they read only
  // what Create fixed); others one at a time.
  StatusOr<ModelInstances> Make(const ModelConfig* config, int64_t version,
                                const std::string& model_dir,
                                const std::vector<InstancePlacement>& placements,
                                std::size_t first_index = 0);

  // The placement hints of the plugins in the backend directory (model_need.h).
  const plugin::PlacementHintReader& placement_hints() const { return placement_hints_; }

  // The simulated GPU an instance on `gpus` runs on: the first one's "<fd>:<speed>"
  // (SyInstanceDesc::simulated_gpu), "" on CPU and real GPUs.
  std::string SimulatedGpu(const std::vector<int>& gpus) const;

 private:
  InstanceFactory(Options options, std::vector<Device> devices)
      : options_(std::move(options)),
        devices_(std::move(devices)),
        placement_hints_(options_.backend_directory) {}
  StatusOr<ModelInstances> MakeInProcess(const ModelConfig* config, int64_t version,
                                         const std::string& model_dir,
                                         const std::vector<InstancePlacement>& placements,
                                         std::size_t first_index);
  StatusOr<ModelInstances> MakeWorkers(const ModelConfig* config, int64_t version,
                                       const std::vector<InstancePlacement>& placements,
                                       std::size_t first_index) const;
  StatusOr<const plugin::PluginLibrary*> LoadPlugin(const std::string& backend);
  // The CUDA_VISIBLE_DEVICES value that shows exactly `gpus` (their UUIDs; simulated GPUs are
  // left out, so an instance on them sees none).
  std::string VisibleDevices(const std::vector<int>& gpus) const;

  const Options options_;
  const std::vector<Device> devices_;
  const plugin::PlacementHintReader placement_hints_;
  // Indexed like devices_, null for a real GPU.
  std::vector<std::unique_ptr<SharedSimulatedGpu>> simulated_gpus_;
  std::map<std::string, std::unique_ptr<plugin::PluginLibrary>> plugins_;
};

}  // namespace switchyard
