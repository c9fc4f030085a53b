#pragma once
// The core server: the loaded models, each with its scheduler, statistics and instances.

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "devices/device.h"
#include "devices/model_need.h"
#include "devices/placement.h"
#include "metrics/metrics.h"
#include "repository/repository.h"
#include "scheduler/model_scheduler.h"
#include "scheduler/model_stats.h"
#include "sim_device.h"
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
  std::vector<ModelInfo> ListModels() const override;
  StatusOr<ModelInfo> GetModel(std::string_view name, int64_t version) const override;
  void Infer(std::unique_ptr<InferRequest> request, InferCallback done) override;
  StatusOr<std::vector<ModelStatistics>> Statistics(std::string_view name,
                                                    int64_t version) const override;
  ServerStatus GetStatus() const override;
  std::string MetricsText() const override;
  void Shutdown() override;

 private:
  // Written once during Load, read-only afterwards (so no lock): the model repository API that
  // changes the set at run time comes with worker processes.
  struct LoadedModel {
    ModelInfo info;
    std::vector<std::string> instance_devices;  // per instance: "cpu", "GPU0", "GPU0+GPU1"
    std::unique_ptr<ModelStats> stats;
    std::unique_ptr<ModelScheduler> scheduler;
  };

  StatusOr<std::unique_ptr<LoadedModel>> LoadModel(
      RepositoryModel model, const std::vector<InstancePlacement>& placements);
  StatusOr<std::vector<std::unique_ptr<Instance>>> CreateInstances(
      const ModelConfig* config, const std::vector<InstancePlacement>& placements);
  StatusOr<const LoadedModel*> Find(std::string_view name, int64_t version) const;

  const ServerOptions options_;
  Clock* const clock_;
  metrics::Registry registry_;
  std::vector<Device> devices_;
  Plan plan_;
  // One simulated device per GPU, shared by the sim instances placed there. Declared before
  // models_ so that it outlives their instances.
  std::vector<std::unique_ptr<sim::SimDevice>> sim_devices_;
  std::map<std::string, std::unique_ptr<LoadedModel>, std::less<>> models_;
  std::atomic<bool> shutting_down_{false};
};

}  // namespace switchyard
