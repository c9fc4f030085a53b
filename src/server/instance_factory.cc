#include "server/instance_factory.h"

#include <unistd.h>

#include <thread>

#include "fmt/format.h"
#include "instance/process_instance.h"
#include "instance/thread_instance.h"
#include "server/cpu_share.h"
#include "spdlog/spdlog.h"

namespace switchyard {
namespace {

std::string InstanceName(const ModelConfig& config, std::size_t index) {
  return fmt::format("{}/{}", config.name, index);
}

}  // namespace

StatusOr<std::unique_ptr<InstanceFactory>> InstanceFactory::Create(
    Options options, const std::vector<Device>& devices) {
  if (options.worker_executable.empty()) {
    ASSIGN_OR_RETURN(options.worker_executable, SelfExecutable());
  }
  if (options.backend_directory.empty()) {
    options.backend_directory = plugin::BackendDirectoryBeside(options.worker_executable);
  }
  std::unique_ptr<InstanceFactory> factory(new InstanceFactory(std::move(options), devices));
  for (const Device& device : devices) {
    if (!device.simulated) {  // a real GPU
      factory->simulated_gpus_.push_back(nullptr);
      continue;
    }
    ASSIGN_OR_RETURN(auto gpu, SharedSimulatedGpu::Create(device.speed));
    factory->simulated_gpus_.push_back(std::move(gpu));
  }
  return factory;
}

std::string InstanceFactory::SimulatedGpu(const std::vector<int>& gpus) const {
  // An instance spanning several simulated GPUs runs on the first one's device.
  if (gpus.empty()) return "";
  const auto& gpu = simulated_gpus_[static_cast<std::size_t>(gpus.front())];
  return gpu != nullptr ? gpu->description() : "";
}

StatusOr<ModelInstances> InstanceFactory::Make(const ModelConfig* config, int64_t version,
                                               const std::string& model_dir,
                                               const std::vector<InstancePlacement>& placements,
                                               std::size_t first_index) {
  if (config->instances.isolation == Isolation::kThread) {
    if (config->instances.recycle_vram_mb > 0) {
      spdlog::warn("model '{}': instances.recycle_vram_mb has no effect with isolation: thread",
                   config->name);
    }
    return MakeInProcess(config, version, model_dir, placements, first_index);
  }
  return MakeWorkers(config, version, placements, first_index);
}

StatusOr<const plugin::PluginLibrary*> InstanceFactory::LoadPlugin(const std::string& backend) {
  auto it = plugins_.find(backend);
  if (it == plugins_.end()) {
    std::string path = plugin::PluginPath(options_.backend_directory, backend);
    auto library = plugin::PluginLibrary::Load(path);
    if (!library.ok()) {
      return Unimplemented(
          fmt::format("backend '{}' is not available: {}", backend, library.status().message()));
    }
    it = plugins_.emplace(backend, std::move(library).value()).first;
  }
  return it->second.get();
}

StatusOr<ModelInstances> InstanceFactory::MakeInProcess(
    const ModelConfig* config, int64_t version, const std::string& model_dir,
    const std::vector<InstancePlacement>& placements, std::size_t first_index) {
  ModelInstances made;
  made.need_warmup = true;
  ASSIGN_OR_RETURN(const plugin::PluginLibrary* library, LoadPlugin(config->backend));
  ASSIGN_OR_RETURN(made.plugin_model,
                   plugin::PluginModel::Create(library, *config, version, model_dir));
  for (std::size_t i = 0; i < placements.size(); ++i) {
    ASSIGN_OR_RETURN(
        auto instance,
        plugin::PluginInstance::Create(
            made.plugin_model.get(), InstanceName(*config, first_index + i),
            static_cast<int>(first_index + i), static_cast<int>(placements[i].devices.size()),
            VisibleDevices(placements[i].devices), SimulatedGpu(placements[i].devices)));
    made.instances.push_back(std::make_unique<ThreadInstance>(config, std::move(instance)));
  }
  return made;
}

std::string InstanceFactory::VisibleDevices(const std::vector<int>& gpus) const {
  std::string visible;
  for (int gpu : gpus) {
    const Device& device = devices_[static_cast<std::size_t>(gpu)];
    if (device.simulated) continue;
    visible += (visible.empty() ? "" : ",") + device.uuid;
  }
  return visible;
}

StatusOr<ModelInstances> InstanceFactory::MakeWorkers(
    const ModelConfig* config, int64_t version, const std::vector<InstancePlacement>& placements,
    std::size_t first_index) const {
  // A config the backend refuses was refused at startup already, when it was placed
  // (PlacementRequestFor asks the plugin), rather than in every worker.
  std::string plugin_path = plugin::PluginPath(options_.backend_directory, config->backend);
  if (access(plugin_path.c_str(), R_OK) != 0) {
    return Unimplemented(fmt::format("model '{}': backend '{}' is not available: no plugin at {}",
                                     config->name, config->backend, plugin_path));
  }
  std::vector<ProcessInstanceOptions> options(placements.size());
  const std::vector<int> cores = AllowedCpus();
  const int64_t recycle_mb = config->instances.recycle_vram_mb;
  if (recycle_mb > 0 && !options_.process_device_memory) {
    spdlog::warn(
        "model '{}': instances.recycle_vram_mb has no effect: GPU memory cannot be "
        "measured here (no NVML)",
        config->name);
  }
  for (std::size_t i = 0; i < placements.size(); ++i) {
    const std::vector<int>& gpus = placements[i].devices;
    WorkerCommand& command = options[i].command;
    command.executable = options_.worker_executable;
    command.args = {"worker",
                    "--model-repository",
                    options_.model_repository,
                    "--model",
                    config->name,
                    "--version",
                    std::to_string(version),
                    "--instance",
                    std::to_string(first_index + i),
                    "--gpus",
                    std::to_string(gpus.size()),
                    "--plugin",
                    plugin_path,
                    "--parent-pid",
                    std::to_string(getpid())};
    if (options_.poll > Duration::zero()) {
      const auto poll_us = std::chrono::duration_cast<std::chrono::microseconds>(options_.poll);
      command.args.insert(command.args.end(), {"--poll-us", std::to_string(poll_us.count())});
    }
    // The model's environment, its share of the cores, and pinning by environment before
    // anything in the worker initialises CUDA.
    for (const auto& [name, value] : config->environment) {
      command.environment.push_back(name + "=" + value);
    }
    const CpuShare share =
        ShareOfCores(cores, static_cast<int>(placements.size()), static_cast<int>(i));
    for (std::string& cap : ThreadCapEnvironment(share.threads, config->environment)) {
      command.environment.push_back(std::move(cap));
    }
    if (gpus.empty()) command.args.insert(command.args.end(), {"--cpus", CpuList(share.cpus)});
    command.environment.push_back("CUDA_VISIBLE_DEVICES=" + VisibleDevices(gpus));
    // The worker inherits the simulated GPU's descriptor (it is not close-on-exec).
    if (std::string simulated = SimulatedGpu(gpus); !simulated.empty()) {
      command.args.insert(command.args.end(), {"--simulated-gpu", simulated});
    }
    options[i].max_inflight_batches = config->instances.max_inflight_batches;
    options[i].execution_timeout =
        std::chrono::milliseconds(config->instances.execution_timeout_ms);
    options[i].poll = options_.poll;
    if (recycle_mb > 0 && !gpus.empty() && options_.process_device_memory) {
      options[i].device_memory_of = [measure = options_.process_device_memory, gpus](long pid) {
        return measure(gpus, pid);
      };
      options[i].recycle_device_memory_bytes = static_cast<uint64_t>(recycle_mb) << 20;
    }
  }
  // Workers load in parallel: startup takes one model load, not one per instance.
  std::vector<StatusOr<std::unique_ptr<ProcessInstance>>> started;
  for (std::size_t i = 0; i < placements.size(); ++i) started.emplace_back(Unavailable(""));
  std::vector<std::thread> starters;
  for (std::size_t i = 0; i < placements.size(); ++i) {
    starters.emplace_back([&, i] {
      started[i] = ProcessInstance::Start(config, InstanceName(*config, first_index + i),
                                          std::move(options[i]));
    });
  }
  for (auto& starter : starters) starter.join();
  ModelInstances made;
  for (auto& instance : started) {
    if (!instance.ok()) {
      return instance.status();  // names the instance ("model/0: ...")
    }
    made.device_memory_bytes.push_back((*instance)->device_memory_bytes());
    made.instances.push_back(std::move(instance).value());
  }
  return made;
}

}  // namespace switchyard
