#pragma once
// A model and its instances inside a loaded plugin: RAII owners of the plugin's model and
// instance state (SyModelInit/Fini, SyInstanceInit/Fini), and the guarded Execute call.
// Thread-safety: as backend.h says: one thread at a time per PluginInstance; instances of one
// model may execute concurrently.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "core/mutex.h"
#include "plugin/batch_access.h"
#include "plugin/plugin_library.h"
#include "switchyard/model_config.h"
#include "switchyard/status.h"

namespace switchyard::plugin {

class PluginModel {
 public:
  // Loads `config` (version `version`, whose folder is `<model_dir>/<version>`) into `library`.
  // `library` must outlive the model. Fails with the plugin's error, prefixed with the model's
  // name, or Internal if the plugin throws.
  static StatusOr<std::unique_ptr<PluginModel>> Create(const PluginLibrary* library,
                                                       const ModelConfig& config, int64_t version,
                                                       const std::string& model_dir);
  ~PluginModel();  // SyModelFini; every instance must be gone

  PluginModel(const PluginModel&) = delete;
  PluginModel& operator=(const PluginModel&) = delete;

  const PluginLibrary& library() const { return *library_; }
  const std::string& name() const { return name_; }
  void* state() const { return state_; }

 private:
  PluginModel(const PluginLibrary* library, std::string name, void* state)
      : library_(library), name_(std::move(name)), state_(state) {}

  const PluginLibrary* const library_;
  const std::string name_;
  void* const state_;
};

class PluginInstance {
 public:
  // `model` must outlive the instance. `gpu_count` 0 means a CPU instance; `visible` is the
  // CUDA_VISIBLE_DEVICES value of its GPUs (SyInstanceDesc::cuda_visible_devices);
  // `simulated_gpu` the simulated GPU it is placed on, "<fd>:<speed>", or ""
  // (SyInstanceDesc::simulated_gpu).
  static StatusOr<std::unique_ptr<PluginInstance>> Create(const PluginModel* model,
                                                          std::string name, int index,
                                                          int gpu_count, const std::string& visible,
                                                          const std::string& simulated_gpu = "");
  ~PluginInstance();  // SyInstanceFini, unless the device was lost (then the state is leaked)

  PluginInstance(const PluginInstance&) = delete;
  PluginInstance& operator=(const PluginInstance&) = delete;

  const std::string& name() const { return name_; }

  // Runs SyInstanceExecute over `batch`. An error returned by the plugin (or an exception it let
  // escape, reported as Internal) is for the whole batch: the caller fails every request that
  // has no error of its own. Up to concurrency() calls may run at once.
  // REQUIRES: !device_lost().
  Status Execute(BatchAccess& batch);

  // How many Executes may run at once (SyInstanceConcurrency; 1 when not exported), >= 1.
  uint32_t concurrency() const { return concurrency_; }

  // Set when an Execute returned SY_ERROR_DEVICE_LOST, to the plugin's message: the instance's
  // device is unusable in this process; nothing but the destructor may be called any more, and
  // it does not call SyInstanceFini. Any thread.
  std::optional<std::string> device_lost() const EXCLUDES(device_lost_mu_) {
    MutexLock lock(&device_lost_mu_);
    return device_lost_;
  }

  // The device memory the instance holds (SyInstanceDeviceMemory), nullopt if the plugin does
  // not report it or fails to.
  std::optional<uint64_t> DeviceMemoryBytes();

  // Tells the plugin that later batches' inputs lie in `memory` (SyInstanceHostMemoryMapped),
  // until HostMemoryUnmapping(memory) (call it before unmapping). A plugin without these
  // exports is not told; an error or exception from it is logged and ignored (the memory works
  // without what the plugin wanted to do). Not during Execute; same thread as Execute.
  void HostMemoryMapped(std::span<std::byte> memory);
  void HostMemoryUnmapping(std::span<std::byte> memory);

 private:
  PluginInstance(const PluginModel* model, std::string name, void* state, uint32_t concurrency)
      : model_(model), name_(std::move(name)), state_(state), concurrency_(concurrency) {}

  const PluginModel* const model_;
  const std::string name_;
  void* const state_;
  const uint32_t concurrency_;
  mutable Mutex device_lost_mu_;
  std::optional<std::string> device_lost_ GUARDED_BY(device_lost_mu_);
};

}  // namespace switchyard::plugin
