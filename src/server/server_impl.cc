#include "server/server_impl.h"

#include "fmt/format.h"
#include "server/request_validation.h"
#include "server/warmup.h"
#include "sim_instance.h"
#include "spdlog/spdlog.h"

namespace switchyard {
namespace {

// Maps the request's `priority` (1 = highest, 0 = default) to a queue level (0 = highest).
StatusOr<int> PriorityLevel(int priority, int levels) {
  if (priority == 0) return levels - 1;
  if (priority < 0 || priority > levels) {
    return InvalidArgument(
        fmt::format("priority {} is outside [1, {}] for this model", priority, levels));
  }
  return priority - 1;
}

std::string DeviceLabel(const InstancePlacement& placement) {
  if (placement.devices.empty()) return "cpu";
  std::string label;
  for (int index : placement.devices)
    label += (label.empty() ? "GPU" : "+GPU") + std::to_string(index);
  return label;
}

}  // namespace

std::string_view Server::Version() { return "0.1.0"; }

const std::vector<std::string>& Server::Extensions() {
  static const std::vector<std::string> kExtensions = {"binary_tensor_data", "model_configuration",
                                                       "parameters", "statistics"};
  return kExtensions;
}

StatusOr<std::unique_ptr<Server>> Server::Create(ServerOptions options) {
  auto server = std::make_unique<ServerImpl>(std::move(options));
  RETURN_IF_ERROR(server->Load());
  return std::unique_ptr<Server>(std::move(server));
}

ServerImpl::ServerImpl(ServerOptions options)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : SteadyClock::Get()) {}

ServerImpl::~ServerImpl() { Shutdown(); }

Status ServerImpl::Load() {
  ASSIGN_OR_RETURN(devices_, ParseSimulatedGpus(options_.simulate_gpus));
  ASSIGN_OR_RETURN(std::vector<RepositoryModel> found, ScanRepository(options_.model_repository));
  ASSIGN_OR_RETURN(plan_, PlanRepository(found, devices_, options_.vram_reserve_mb));
  if (devices_.empty()) spdlog::info("no GPUs: every model runs on CPU");
  spdlog::info("{}", FormatPlan(plan_, devices_));
  for (const Device& device : devices_) {
    std::string label = "GPU" + std::to_string(device.index);
    sim_devices_.push_back(std::make_unique<sim::SimDevice>(label, device.speed));
    registry_
        .GetGauge("switchyard_device_memory_total_mb", "A GPU's memory, MiB.", {{"device", label}})
        ->Set(static_cast<double>(device.total_mb));
    registry_
        .GetGauge("switchyard_device_memory_planned_mb",
                  "Memory the placement gave the instances on a GPU, MiB.", {{"device", label}})
        ->Set(
            static_cast<double>(plan_.devices[static_cast<std::size_t>(device.index)].planned_mb));
  }
  for (auto& model : found) {
    std::string name = model.config.name;
    ASSIGN_OR_RETURN(auto loaded, LoadModel(std::move(model), plan_.models.at(name)));
    if (loaded->info.state == ModelState::kReady) {
      spdlog::info("model '{}' version {} ready: {} instance(s), backend {}", name,
                   loaded->info.version, loaded->scheduler->instance_count(),
                   loaded->info.config->backend);
    }
    models_.emplace(name, std::move(loaded));
  }
  if (models_.empty()) {
    spdlog::warn("the model repository '{}' holds no models", options_.model_repository);
  }
  return Status::Ok();
}

StatusOr<std::vector<std::unique_ptr<Instance>>> ServerImpl::CreateInstances(
    const ModelConfig* config, const std::vector<InstancePlacement>& placements) {
  if (config->backend != "sim") {
    return Unimplemented(
        fmt::format("model '{}': backend '{}' is not available in this build (available: sim)",
                    config->name, config->backend));
  }
  std::vector<std::unique_ptr<Instance>> instances;
  for (std::size_t i = 0; i < placements.size(); ++i) {
    // A sim instance spanning several GPUs runs on the first one's simulated device.
    const auto& gpus = placements[i].devices;
    sim::SimDevice* device =
        gpus.empty() ? nullptr : sim_devices_[static_cast<std::size_t>(gpus.front())].get();
    auto instance = sim::SimInstance::Create(config, static_cast<int>(i), device);
    if (!instance.ok()) {
      return InvalidArgument(
          fmt::format("model '{}': {}", config->name, instance.status().message()));
    }
    instances.push_back(std::move(instance).value());
  }
  return instances;
}

StatusOr<std::unique_ptr<ServerImpl::LoadedModel>> ServerImpl::LoadModel(
    RepositoryModel model, const std::vector<InstancePlacement>& placements) {
  auto loaded = std::make_unique<LoadedModel>();
  auto config = std::make_shared<const ModelConfig>(std::move(model.config));
  loaded->info.config = config;
  loaded->info.versions = model.versions;
  loaded->info.version = model.versions.back();
  ASSIGN_OR_RETURN(auto instances, CreateInstances(config.get(), placements));
  loaded->info.state = ModelState::kReady;
  for (auto& instance : instances) {
    if (Status warm = WarmUp(*instance, *config); !warm.ok()) {
      spdlog::error("model '{}' is not ready: {}", config->name, warm.message());
      loaded->info.state = ModelState::kUnavailable;
      loaded->info.reason = warm.message();
      break;
    }
  }
  loaded->stats =
      std::make_unique<ModelStats>(config->name, std::to_string(loaded->info.version), &registry_);
  for (std::size_t i = 0; i < instances.size(); ++i) {
    loaded->instance_devices.push_back(DeviceLabel(placements[i]));
    loaded->stats->AddInstance(instances[i]->name(), loaded->instance_devices.back());
  }
  loaded->scheduler =
      std::make_unique<ModelScheduler>(SchedulerOptionsFromConfig(*config, loaded->info.version),
                                       std::move(instances), clock_, loaded->stats.get());
  return loaded;
}

bool ServerImpl::IsReady() const {
  if (shutting_down_.load()) return false;
  for (const auto& [name, model] : models_) {
    if (model->info.state != ModelState::kReady) return false;
  }
  return true;
}

std::vector<ModelInfo> ServerImpl::ListModels() const {
  std::vector<ModelInfo> out;
  for (const auto& [name, model] : models_) out.push_back(model->info);
  return out;
}

StatusOr<const ServerImpl::LoadedModel*> ServerImpl::Find(std::string_view name,
                                                          int64_t version) const {
  auto it = models_.find(name);
  if (it == models_.end()) {
    // Worded as Triton words it: client examples match on "Request for unknown model".
    return NotFound(fmt::format("Request for unknown model: '{}' is not found", name));
  }
  const LoadedModel* model = it->second.get();
  if (version != -1 && version != model->info.version) {
    return NotFound(fmt::format("model '{}' has no version {} loaded (serving version {})", name,
                                version, model->info.version));
  }
  return model;
}

StatusOr<ModelInfo> ServerImpl::GetModel(std::string_view name, int64_t version) const {
  ASSIGN_OR_RETURN(const LoadedModel* model, Find(name, version));
  return model->info;
}

void ServerImpl::Infer(std::unique_ptr<InferRequest> request, InferCallback done) {
  if (shutting_down_.load()) return done(Unavailable("the server is shutting down"));
  auto found = Find(request->model_name, request->model_version);
  if (!found.ok()) return done(found.status());
  const LoadedModel* model = *found;
  const ModelConfig& config = *model->info.config;
  if (model->info.state != ModelState::kReady) {
    return done(
        Unavailable(fmt::format("model '{}' is not ready: {}", config.name, model->info.reason)));
  }
  Status valid = ValidateRequest(config, request.get());
  auto level = PriorityLevel(request->priority, config.queue.priority_levels);
  if (valid.ok() && !level.ok()) valid = level.status();
  if (!valid.ok()) {
    model->stats->RecordInvalid();
    return done(valid);
  }
  TimePoint now = clock_->Now();
  QueuedRequest entry;
  entry.enqueue_time = now;
  if (config.queue.timeout_ms > 0) {
    entry.deadline = now + std::chrono::milliseconds(config.queue.timeout_ms);
  }
  if (request->timeout_us) {
    entry.deadline =
        std::min(entry.deadline, now + std::chrono::microseconds(*request->timeout_us));
  }
  entry.items = request->batch_size;
  entry.level = *level;
  entry.request = std::move(request);
  entry.done = std::move(done);
  Status queued = model->scheduler->Submit(std::move(entry));
  if (!queued.ok()) {
    model->stats->RecordDropped(queued.code(), Duration(0));
    entry.done(queued);
  }
}

StatusOr<std::vector<ModelStatistics>> ServerImpl::Statistics(std::string_view name,
                                                              int64_t version) const {
  std::vector<ModelStatistics> out;
  if (name.empty()) {
    for (const auto& [model_name, model] : models_) out.push_back(model->stats->Read());
    return out;
  }
  ASSIGN_OR_RETURN(const LoadedModel* model, Find(name, version));
  out.push_back(model->stats->Read());
  return out;
}

ServerStatus ServerImpl::GetStatus() const {
  ServerStatus status;
  status.ready = IsReady();
  for (const Device& device : devices_) {
    const DevicePlan& planned = plan_.devices[static_cast<std::size_t>(device.index)];
    status.devices.push_back({.index = device.index,
                              .uuid = device.uuid,
                              .name = device.name,
                              .simulated = device.simulated,
                              .speed = device.speed,
                              .total_mb = device.total_mb,
                              .used_by_others_mb = device.used_by_others_mb,
                              .reserve_mb = options_.vram_reserve_mb,
                              .planned_mb = planned.planned_mb,
                              .instances = planned.instances});
  }
  for (const auto& [name, model] : models_) {
    SchedulerSnapshot snapshot = model->scheduler->Snapshot();
    ModelStatus m;
    m.name = name;
    m.version = model->info.version;
    m.state = std::string(ModelStateName(model->info.state));
    m.reason = model->info.reason;
    m.routing = std::string(RoutingPolicyName(model->info.config->routing));
    m.max_batch_size = model->info.config->max_batch_size;
    for (std::size_t i = 0; i < snapshot.instances.size(); ++i) {
      const auto& row = snapshot.instances[i];
      m.instances.push_back(
          {.name = row.name,
           .device = model->instance_devices[i],
           .state = m.state,
           .inflight_batches = row.inflight_batches,
           .outstanding_items = row.outstanding_items,
           .batches = row.batches,
           .items = row.items,
           .average_batch_ms =
               std::chrono::duration<double, std::milli>(row.average_batch_time).count()});
    }
    for (std::size_t depth : snapshot.queue_depth_by_priority) {
      m.queue_depth_by_priority.push_back(depth);
    }
    m.queue_max_size = snapshot.queue_max_size;
    m.oldest_wait_ms = std::chrono::duration<double, std::milli>(snapshot.oldest_wait).count();
    status.models.push_back(std::move(m));
  }
  return status;
}

std::string ServerImpl::MetricsText() const { return registry_.ExpositionText(); }

void ServerImpl::Shutdown() {
  if (shutting_down_.exchange(true)) return;
  for (auto& [name, model] : models_) model->scheduler->Shutdown();
}

}  // namespace switchyard
