#pragma once
// The core server: the loaded models, each with its scheduler, statistics and instances. The set
// of models changes at run time (repository load/unload): it is a map of shared pointers under
// a mutex; a request holds its model only while it is being submitted, and unloading drains a
// model's scheduler before its instances go. Implemented in two files: server_impl.cc (serving,
// status, load/unload) and model_loading.cc (measuring, placing and making models).

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/mutex.h"
#include "devices/device.h"
#include "devices/device_faults.h"
#include "devices/device_telemetry.h"
#include "devices/model_need.h"
#include "devices/nvml_device_manager.h"
#include "devices/placement.h"
#include "ipc/shm_pool.h"
#include "metrics/metrics.h"
#include "repository/repository.h"
#include "scheduler/model_scheduler.h"
#include "scheduler/model_stats.h"
#include "server/instance_factory.h"
#include "server/need_probe.h"
#include "switchyard/server.h"

namespace switchyard {

class ServerImpl final : public Server {
 public:
  explicit ServerImpl(ServerOptions options);
  ~ServerImpl() override;

  // Scans the repository and loads every model. Called once by Server::Create.
  Status Load();

  bool IsLive() const override { return true; }
  bool IsReady() const override;
  Server::Load CurrentLoad() const override;
  void StopBeingReady() override { leaving_.store(true); }
  std::vector<ModelInfo> ListModels() const override;
  StatusOr<ModelInfo> GetModel(std::string_view name, int64_t version) const override;
  StatusOr<std::shared_ptr<const ModelHandle>> Resolve(std::string_view name,
                                                       int64_t version) const override;
  using Server::Infer;
  void Infer(const ModelHandle& model, std::unique_ptr<InferRequest> request,
             InferCallback done) override;
  StatusOr<std::vector<ModelStatistics>> Statistics(std::string_view name,
                                                    int64_t version) const override;
  ServerStatus GetStatus() const override;
  std::string MetricsText() const override;
  Status LoadModel(std::string_view name) override;
  Status UnloadModel(std::string_view name, Duration drain_timeout) override;
  void Drain(Duration timeout) override;
  void Shutdown() override;

  // Drains the instances placed on a GPU whose health in `telemetry`, with the device faults
  // instances reported (DeviceFaults) laid over it, is kFailed (ModelScheduler::SetDrained,
  // reason "GPU<i> failed: <detail>") and returns those on GPUs healthy again to service;
  // remembers the snapshot for GetStatus and for models loaded later. Called after every NVML
  // poll, once at load for simulated GPUs (their spec's health), and by tests, which inject
  // failures this way. Thread-safe.
  void ApplyDeviceTelemetry(std::shared_ptr<const DeviceTelemetry> telemetry)
      EXCLUDES(apply_mu_, models_mu_, health_mu_);

 private:
  // Immutable after construction (its scheduler and stats are thread-safe). The handles that
  // Resolve gives out.
  struct LoadedModel final : ModelHandle {
    const std::shared_ptr<const ModelConfig>& config() const override { return info.config; }
    std::optional<RequestBody> NewRequestBody(std::size_t size,
                                              std::size_t aligned_at) const override;

    ModelInfo info;
    uint64_t generation = 0;  // unique per load: device faults are kept per load
    std::vector<InstancePlacement> placements;
    std::vector<std::string> instance_devices;  // per instance: "cpu", "GPU0", "GPU0+GPU1"
    std::vector<int64_t> planned_mb;            // per device: what its instances hold there
    PlannedNeed need;                           // per instance, as placement took it
    std::unique_ptr<ModelStats> stats;
    std::unique_ptr<plugin::PluginModel> plugin_model;  // outlives the scheduler's instances
    // Where its request bodies are received when its instances are worker processes; else null.
    std::shared_ptr<ipc::ShmPool> body_pool;
    // Null when the model's instances could not be made (info.state UNAVAILABLE, info.reason
    // says why).
    std::unique_ptr<ModelScheduler> scheduler;  // declared last: destroyed first
  };
  using ModelMap = std::map<std::string, std::shared_ptr<const LoadedModel>, std::less<>>;

  // InstanceFactory::Options::process_device_memory over nvml_; null without real GPUs.
  std::function<std::optional<uint64_t>(const std::vector<int>&, long)> ProcessDeviceMemory() const;

  // A model on its way in: its config, what placement is asked for and, when its need is
  // measured, its probe (server/need_probe.h).
  struct Candidate {
    std::shared_ptr<const ModelConfig> config;
    std::string path;  // its folder
    std::vector<int64_t> versions;
    PlacementRequest request;
    std::optional<NeedProbe> probe;
    Status failed;  // its probe could not load: it is not placed and stays UNAVAILABLE
  };
  // Measures the needs that are measured (one probe instance per such model, in parallel), plans
  // `found` on `devices` (the memory other loaded models hold counted as used by others) and
  // makes every model's instances, logging the plan when `log_plan`. Fails for what must fail
  // startup or a load: a config the server refuses, a missing backend, a model that does not
  // fit (naming its need, measured or not, and every GPU's free memory).
  StatusOr<std::vector<std::unique_ptr<LoadedModel>>> PlaceAndMake(
      std::vector<RepositoryModel> found, const std::vector<Device>& devices, bool log_plan);
  // Makes a model's instances on `placements`, reusing its probe as instance 0 when that is
  // placed where the probe runs. Fails only for what must fail startup or a load (a config the
  // server refuses, a missing backend); instances that cannot start leave the model UNAVAILABLE
  // instead.
  StatusOr<std::unique_ptr<LoadedModel>> MakeModel(Candidate candidate,
                                                   const std::vector<InstancePlacement>& placements,
                                                   const PlannedNeed& need);
  // The model's info as of now: a READY model none of whose instances is available (its
  // workers are restarting) reports UNAVAILABLE.
  static ModelInfo CurrentInfo(const LoadedModel& model);
  StatusOr<std::shared_ptr<const LoadedModel>> Find(std::string_view name, int64_t version) const
      EXCLUDES(models_mu_);
  ModelMap Models() const EXCLUDES(models_mu_);
  // Per-device MiB that `placements` of a model needing `need_mb` per instance take.
  std::vector<int64_t> MemoryByDevice(const std::vector<InstancePlacement>& placements,
                                      int64_t need_mb) const;
  void SetPlannedGauges() REQUIRES(load_mu_);
  // An instance's DeviceFaultListener: records (or clears) its fault and applies the health.
  void OnDeviceFault(uint64_t generation, const std::string& instance,
                     const std::vector<int>& devices, bool lost, const std::string& why)
      EXCLUDES(apply_mu_, models_mu_, health_mu_);
  // Forgets the device faults of a model load that was unloaded or replaced.
  void RetireFaults(uint64_t generation) EXCLUDES(apply_mu_, models_mu_, health_mu_);
  // Lays the device faults over the latest NVML (or simulated) telemetry, publishes the result
  // and drains or restores every model's instances by it.
  void ApplyHealth() EXCLUDES(apply_mu_, models_mu_, health_mu_);
  // Drains or restores `model`'s instances by `failed` (FailedDeviceReasons).
  static void DrainOnFailedDevices(const LoadedModel& model,
                                   const std::vector<std::string>& failed);
  // The latest telemetry with the device faults laid over it (null before the first).
  std::shared_ptr<const DeviceTelemetry> LatestTelemetry() const EXCLUDES(health_mu_);

  const ServerOptions options_;
  Clock* const clock_;
  metrics::Registry registry_;
  // The server-wide load (server_load.h), set from the models when /metrics is read.
  metrics::Gauge* const queued_requests_;
  metrics::Gauge* const running_requests_;
  metrics::Gauge* const utilization_;
  std::unique_ptr<NvmlDeviceManager> nvml_;  // null with simulated GPUs
  std::vector<Device> devices_;
  // Declared before the models: it holds what their instances share (simulated devices,
  // plugins).
  std::unique_ptr<InstanceFactory> factory_;

  // Declared before the models: their instances report to it until they are gone.
  DeviceFaults device_faults_;
  std::atomic<uint64_t> next_generation_{1};

  Mutex load_mu_;  // serialises loads and unloads (they take long; the model map is not held)
  std::vector<int64_t> planned_mb_ GUARDED_BY(load_mu_);  // per device, all loaded models

  mutable Mutex models_mu_;
  ModelMap models_ GUARDED_BY(models_mu_);
  std::map<std::string, ModelInfo, std::less<>> unloaded_ GUARDED_BY(models_mu_);
  // Serialises ApplyDeviceTelemetry (a poll and a load may race) and the drain of a model loaded
  // later; held while instances are drained (never inside a scheduler or instance).
  Mutex apply_mu_;           // taken before models_mu_ and health_mu_
  mutable Mutex health_mu_;  // a leaf
  std::shared_ptr<const DeviceTelemetry> nvml_telemetry_ GUARDED_BY(health_mu_);  // as polled
  std::shared_ptr<const DeviceTelemetry> telemetry_ GUARDED_BY(health_mu_);  // faults laid over
  std::atomic<bool> shutting_down_{false};
  std::atomic<bool> leaving_{false};  // StopBeingReady: not ready, still serving
};

}  // namespace switchyard
