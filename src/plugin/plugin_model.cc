#include "plugin/plugin_model.h"

#include <algorithm>
#include <vector>

#include "fmt/format.h"
#include "plugin/host_api.h"
#include "plugin/model_description.h"
#include "spdlog/spdlog.h"

namespace switchyard::plugin {

StatusOr<std::unique_ptr<PluginModel>> PluginModel::Create(const PluginLibrary* library,
                                                           const ModelConfig& config,
                                                           int64_t version,
                                                           const std::string& model_dir) {
  ModelDescription desc(config, version, model_dir);
  void* state = nullptr;
  Status status;
  try {
    status =
        TakeError(library->functions().model_init(library->backend_state(), desc.get(), &state),
                  fmt::format("model '{}': ", config.name));
  } catch (...) {
    status = Internal(
        fmt::format("model '{}': the backend threw an exception in SyModelInit", config.name));
  }
  if (!status.ok()) return status;
  return std::unique_ptr<PluginModel>(new PluginModel(library, config.name, state));
}

PluginModel::~PluginModel() {
  try {
    library_->functions().model_fini(state_);
  } catch (...) {
  }
}

StatusOr<std::unique_ptr<PluginInstance>> PluginInstance::Create(const PluginModel* model,
                                                                 std::string name, int index,
                                                                 int gpu_count,
                                                                 const std::string& visible,
                                                                 const std::string& simulated_gpu) {
  SyInstanceDesc desc = {.struct_size = sizeof(SyInstanceDesc),
                         .name = name.c_str(),
                         .index = index,
                         .gpu_count = gpu_count,
                         .cuda_visible_devices = visible.c_str(),
                         .simulated_gpu = simulated_gpu.c_str()};
  void* state = nullptr;
  Status status;
  try {
    status = TakeError(model->library().functions().instance_init(model->state(), &desc, &state),
                       fmt::format("instance '{}': ", name));
  } catch (...) {
    status = Internal(
        fmt::format("instance '{}': the backend threw an exception in SyInstanceInit", name));
  }
  if (!status.ok()) return status;
  uint32_t concurrency = 1;
  if (auto fn = model->library().functions().instance_concurrency) {
    try {
      concurrency = std::max<uint32_t>(1, fn(state));
    } catch (...) {
    }
  }
  return std::unique_ptr<PluginInstance>(
      new PluginInstance(model, std::move(name), state, concurrency));
}

PluginInstance::~PluginInstance() {
  // After its device was lost the instance's state is left as it is, unfreed: its teardown
  // would free device memory in a context that is gone, which libtorch answers by ending the
  // process. Only the process's exit reclaims it.
  if (device_lost()) return;
  try {
    model_->library().functions().instance_fini(state_);
  } catch (...) {
  }
}

Status PluginInstance::Execute(BatchAccess& batch) {
  SyBatch handle{&batch};
  try {
    SyError* error = model_->library().functions().instance_execute(state_, &handle);
    const bool lost = IsDeviceLost(error);
    Status status = TakeError(error);
    if (status.ok()) return status;
    if (lost) {
      MutexLock lock(&device_lost_mu_);
      device_lost_ = status.message();
    }
    return Status(status.code(), fmt::format("{}: {}", name_, status.message()));
  } catch (const std::exception& e) {
    return Internal(fmt::format("{}: the backend threw an exception: {}", name_, e.what()));
  } catch (...) {
    return Internal(fmt::format("{}: the backend threw an exception", name_));
  }
}

void PluginInstance::HostMemoryMapped(std::span<std::byte> memory) {
  auto fn = model_->library().functions().instance_host_memory_mapped;
  if (fn == nullptr) return;
  Status status;
  try {
    status = TakeError(fn(state_, memory.data(), memory.size()), fmt::format("{}: ", name_));
  } catch (...) {
    status = Internal(fmt::format("{}: the backend threw an exception", name_));
  }
  if (!status.ok()) {
    spdlog::warn("{} (SyInstanceHostMemoryMapped of {} bytes; the memory is used as it is)",
                 status.message(), memory.size());
  }
}

void PluginInstance::HostMemoryUnmapping(std::span<std::byte> memory) {
  auto fn = model_->library().functions().instance_host_memory_unmapping;
  if (fn == nullptr) return;
  try {
    fn(state_, memory.data());
  } catch (...) {
    spdlog::warn("{}: the backend threw an exception in SyInstanceHostMemoryUnmapping", name_);
  }
}

std::optional<uint64_t> PluginInstance::DeviceMemoryBytes() {
  auto fn = model_->library().functions().instance_device_memory;
  if (fn == nullptr) return std::nullopt;
  uint64_t bytes = 0;
  try {
    if (!TakeError(fn(state_, &bytes)).ok()) return std::nullopt;
  } catch (...) {
    return std::nullopt;
  }
  return bytes;
}

}  // namespace switchyard::plugin
