#include "server/server_impl.h"

#include <algorithm>
#include <cctype>
#include <thread>

#include "fmt/format.h"
#include "server/request_validation.h"
#include "server/server_load.h"
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

std::string UpperCase(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

std::string_view Server::Version() { return "0.1.0"; }

const std::vector<std::string>& Server::Extensions() {
  static const std::vector<std::string> kExtensions = {
      "binary_tensor_data", "model_configuration", "model_repository", "parameters", "statistics"};
  return kExtensions;
}

StatusOr<std::unique_ptr<Server>> Server::Create(ServerOptions options) {
  auto server = std::make_unique<ServerImpl>(std::move(options));
  RETURN_IF_ERROR(server->Load());
  return std::unique_ptr<Server>(std::move(server));
}

ServerImpl::ServerImpl(ServerOptions options)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : SteadyClock::Get()),
      queued_requests_(registry_.GetGauge("switchyard_server_queued_requests",
                                          "Requests waiting in a model's queue, all models.")),
      running_requests_(registry_.GetGauge("switchyard_server_running_requests",
                                           "Requests executing on an instance, all models.")),
      utilization_(
          registry_.GetGauge("switchyard_server_utilization",
                             "Share of the ready instances that are executing a batch, 0 to 1.")) {}

ServerImpl::~ServerImpl() {
  if (nvml_) nvml_->StopPolling();  // its callback reaches the models, which go first
  Shutdown();
  // The instances end while all that their device-fault listeners reach is still there.
  ModelMap models;
  {
    MutexLock lock(&models_mu_);
    models.swap(models_);
  }
  models.clear();
}

std::function<std::optional<uint64_t>(const std::vector<int>&, long)>
ServerImpl::ProcessDeviceMemory() const {
  if (!nvml_ || devices_.empty()) return nullptr;
  return [nvml = nvml_.get()](const std::vector<int>& gpus, long pid) {
    return ProcessTreeDeviceBytes(*nvml, gpus, pid);
  };
}

Status ServerImpl::Load() {
  if (options_.simulate_gpus) {
    ASSIGN_OR_RETURN(std::vector<Device> simulated, ParseSimulatedGpus(*options_.simulate_gpus));
    ASSIGN_OR_RETURN(devices_, SelectGpus(std::move(simulated), options_.gpus));
  } else {
    ASSIGN_OR_RETURN(nvml_,
                     NvmlDeviceManager::Open(
                         options_.gpus ? options_.gpus : CudaVisibleDevicesFromEnvironment(),
                         {.registry = &registry_,
                          .on_poll =
                              [this](const std::shared_ptr<const DeviceTelemetry>& telemetry) {
                                ApplyDeviceTelemetry(telemetry);
                              },
                          .visible_source = options_.gpus ? "--gpus" : "CUDA_VISIBLE_DEVICES"}));
    devices_ = nvml_->Devices();
    if (devices_.empty()) spdlog::info("no GPUs: {}", nvml_->reason());
    nvml_->StartPolling();  // telemetry and the GPU gauges
  }
  ASSIGN_OR_RETURN(std::vector<RepositoryModel> found, ScanRepository(options_.model_repository));
  ASSIGN_OR_RETURN(factory_,
                   InstanceFactory::Create({.model_repository = options_.model_repository,
                                            .backend_directory = options_.backend_directory,
                                            .worker_executable = options_.worker_executable,
                                            .poll = options_.poll,
                                            .process_device_memory = ProcessDeviceMemory()},
                                           devices_));
  for (const Device& device : devices_) {
    registry_
        .GetGauge("switchyard_device_memory_total_mb", "A GPU's memory, MiB.",
                  {{"device", "GPU" + std::to_string(device.index)}})
        ->Set(static_cast<double>(device.total_mb));
  }
  if (devices_.empty()) spdlog::info("every model runs on CPU");
  const bool none = found.empty();
  MutexLock load_lock(&load_mu_);
  ASSIGN_OR_RETURN(auto loaded, PlaceAndMake(std::move(found), devices_, /*log_plan=*/true));
  planned_mb_.assign(devices_.size(), 0);
  for (auto& model : loaded) {
    for (std::size_t d = 0; d < planned_mb_.size(); ++d) planned_mb_[d] += model->planned_mb[d];
    std::string name = model->info.config->name;
    MutexLock lock(&models_mu_);
    models_.emplace(std::move(name), std::move(model));
  }
  SetPlannedGauges();
  ApplyDeviceTelemetry(
      nvml_ ? nvml_->Telemetry()
            : std::make_shared<const DeviceTelemetry>(SimulatedTelemetry(devices_, clock_->Now())));
  if (none) {
    spdlog::warn("the model repository '{}' holds no models", options_.model_repository);
  }
  return Status::Ok();
}

void ServerImpl::SetPlannedGauges() {
  for (const Device& device : devices_) {
    registry_
        .GetGauge("switchyard_device_memory_planned_mb",
                  "Memory the placement gave the instances on a GPU, MiB.",
                  {{"device", "GPU" + std::to_string(device.index)}})
        ->Set(static_cast<double>(planned_mb_[static_cast<std::size_t>(device.index)]));
  }
}

Status ServerImpl::LoadModel(std::string_view name) {
  if (shutting_down_.load()) return Unavailable("the server is shutting down");
  MutexLock load_lock(&load_mu_);
  ASSIGN_OR_RETURN(RepositoryModel found, ScanModel(options_.model_repository, std::string(name)));
  // Place it on what the loaded models leave free (a reloaded model's old instances included:
  // they run until the new ones are up).
  std::vector<Device> free = devices_;
  for (std::size_t d = 0; d < free.size(); ++d) free[d].used_by_others_mb += planned_mb_[d];
  std::string key(name);
  std::vector<RepositoryModel> one;
  one.push_back(std::move(found));
  ASSIGN_OR_RETURN(auto made, PlaceAndMake(std::move(one), free, /*log_plan=*/false));
  std::shared_ptr<const LoadedModel> loaded = std::move(made.front());
  if (loaded->info.state != ModelState::kReady) {
    return Unavailable(fmt::format("model '{}' failed to load: {}", key, loaded->info.reason));
  }
  std::shared_ptr<const LoadedModel> old;
  {
    MutexLock lock(&models_mu_);
    auto it = models_.find(key);
    if (it != models_.end()) old = std::move(it->second);
    models_[key] = loaded;
    unloaded_.erase(key);
  }
  for (std::size_t d = 0; d < planned_mb_.size(); ++d) planned_mb_[d] += loaded->planned_mb[d];
  {
    MutexLock apply_lock(&apply_mu_);
    if (auto telemetry = LatestTelemetry()) {
      DrainOnFailedDevices(*loaded, FailedDeviceReasons(*telemetry, devices_.size()));
    }
  }
  if (old) {
    // The old instances finish what they hold; new requests already go to the new ones.
    if (old->scheduler) old->scheduler->Drain(options_.drain_timeout);
    RetireFaults(old->generation);
    for (std::size_t d = 0; d < planned_mb_.size(); ++d) planned_mb_[d] -= old->planned_mb[d];
    spdlog::info("model '{}' reloaded", key);
  }
  SetPlannedGauges();
  return Status::Ok();
}

Status ServerImpl::UnloadModel(std::string_view name, Duration drain_timeout) {
  MutexLock load_lock(&load_mu_);
  std::shared_ptr<const LoadedModel> old;
  {
    MutexLock lock(&models_mu_);
    auto it = models_.find(name);
    if (it == models_.end()) {
      return NotFound(fmt::format("model '{}' is not loaded", name));
    }
    old = std::move(it->second);
    models_.erase(it);
    ModelInfo info = old->info;
    info.state = ModelState::kUnavailable;
    info.reason = "unloaded";
    unloaded_.emplace(std::string(name), std::move(info));
  }
  if (old->scheduler) old->scheduler->Drain(drain_timeout);
  RetireFaults(old->generation);
  for (std::size_t d = 0; d < planned_mb_.size(); ++d) planned_mb_[d] -= old->planned_mb[d];
  SetPlannedGauges();
  spdlog::info("model '{}' unloaded", name);
  return Status::Ok();  // `old` goes here: its instances end, their workers exit
}

ModelInfo ServerImpl::CurrentInfo(const LoadedModel& model) {
  ModelInfo info = model.info;
  if (info.state == ModelState::kReady) {
    if (std::string why = model.scheduler->UnavailableReason(); !why.empty()) {
      info.state = ModelState::kUnavailable;
      info.reason = std::move(why);
    }
  }
  return info;
}

void ServerImpl::DrainOnFailedDevices(const LoadedModel& model,
                                      const std::vector<std::string>& failed) {
  if (!model.scheduler) return;
  for (std::size_t i = 0; i < model.placements.size(); ++i) {
    std::string reason;
    for (int device : model.placements[i].devices) {
      const auto d = static_cast<std::size_t>(device);
      if (d < failed.size() && !failed[d].empty()) {
        reason = failed[d];
        break;
      }
    }
    model.scheduler->SetDrained(i, std::move(reason));
  }
}

void ServerImpl::ApplyDeviceTelemetry(std::shared_ptr<const DeviceTelemetry> telemetry) {
  if (!telemetry) return;
  {
    MutexLock lock(&health_mu_);
    nvml_telemetry_ = std::move(telemetry);
  }
  ApplyHealth();
}

void ServerImpl::OnDeviceFault(uint64_t generation, const std::string& instance,
                               const std::vector<int>& devices, bool lost, const std::string& why) {
  const std::string gpus = fmt::format("GPU{}", fmt::join(devices, "+GPU"));
  if (lost) {
    if (!device_faults_.Lost(generation, instance, devices, why)) return;
    spdlog::error("{} lost {}: {}; no work goes there until a new worker of it is ready", instance,
                  gpus, why);
    for (int device : devices) {
      registry_
          .GetCounter("switchyard_device_faults_total",
                      "Times an instance's backend found a GPU unusable (SY_ERROR_DEVICE_LOST).",
                      {{"device", "GPU" + std::to_string(device)}})
          ->Increment();
    }
  } else {
    if (!device_faults_.Recovered(generation, instance)) return;
    spdlog::warn("{}: a new worker is ready on {}", instance, gpus);
  }
  ApplyHealth();
}

void ServerImpl::RetireFaults(uint64_t generation) {
  device_faults_.Retire(generation);
  ApplyHealth();
}

void ServerImpl::ApplyHealth() {
  // Declared before the lock: the last reference to a model that was unloaded meanwhile may be
  // this copy, and its instances must not end under apply_mu_ (their listeners take it).
  ModelMap models;
  MutexLock lock(&apply_mu_);
  std::shared_ptr<const DeviceTelemetry> nvml;
  std::shared_ptr<const DeviceTelemetry> previous;
  {
    MutexLock health_lock(&health_mu_);
    nvml = nvml_telemetry_;
    previous = telemetry_;
  }
  auto telemetry = std::make_shared<const DeviceTelemetry>(
      device_faults_.Overlay(nvml ? *nvml : DeviceTelemetry{}));
  const std::vector<std::string> failed = FailedDeviceReasons(*telemetry, devices_.size());
  const std::vector<std::string> before = previous ? FailedDeviceReasons(*previous, devices_.size())
                                                   : std::vector<std::string>(devices_.size());
  for (std::size_t d = 0; d < failed.size(); ++d) {
    if (failed[d] == before[d]) continue;
    if (failed[d].empty()) {
      spdlog::warn("GPU{} is no longer failed: its instances take work again", d);
    } else {
      spdlog::error("{}: its instances are drained (they take no more work)", failed[d]);
    }
  }
  {
    MutexLock health_lock(&health_mu_);
    telemetry_ = std::move(telemetry);
  }
  models = Models();
  for (const auto& [name, model] : models) DrainOnFailedDevices(*model, failed);
}

std::shared_ptr<const DeviceTelemetry> ServerImpl::LatestTelemetry() const {
  MutexLock lock(&health_mu_);
  return telemetry_;
}

ServerImpl::ModelMap ServerImpl::Models() const {
  MutexLock lock(&models_mu_);
  return models_;
}

bool ServerImpl::IsReady() const {
  if (shutting_down_.load() || leaving_.load()) return false;
  for (const auto& [name, model] : Models()) {
    if (CurrentInfo(*model).state != ModelState::kReady) return false;
  }
  return true;
}

std::vector<ModelInfo> ServerImpl::ListModels() const {
  std::map<std::string, ModelInfo, std::less<>> all;
  {
    MutexLock lock(&models_mu_);
    all = unloaded_;
  }
  for (const auto& [name, model] : Models()) all[name] = CurrentInfo(*model);
  std::vector<ModelInfo> out;
  for (auto& [name, info] : all) out.push_back(std::move(info));
  return out;
}

StatusOr<std::shared_ptr<const ServerImpl::LoadedModel>> ServerImpl::Find(std::string_view name,
                                                                          int64_t version) const {
  std::shared_ptr<const LoadedModel> model;
  {
    MutexLock lock(&models_mu_);
    auto it = models_.find(name);
    if (it != models_.end()) model = it->second;
  }
  if (!model) {
    // Worded as Triton words it: client examples match on "Request for unknown model".
    return NotFound(fmt::format("Request for unknown model: '{}' is not found", name));
  }
  if (version != -1 && version != model->info.version) {
    return NotFound(fmt::format("model '{}' has no version {} loaded (serving version {})", name,
                                version, model->info.version));
  }
  return model;
}

StatusOr<ModelInfo> ServerImpl::GetModel(std::string_view name, int64_t version) const {
  ASSIGN_OR_RETURN(auto model, Find(name, version));
  return CurrentInfo(*model);
}

std::optional<RequestBody> ServerImpl::LoadedModel::NewRequestBody(std::size_t size,
                                                                   std::size_t aligned_at) const {
  if (body_pool == nullptr) return std::nullopt;
  if (auto block = body_pool->Allocate(size, aligned_at)) return RequestBody(std::move(block));
  return std::nullopt;
}

StatusOr<std::shared_ptr<const ModelHandle>> ServerImpl::Resolve(std::string_view name,
                                                                 int64_t version) const {
  ASSIGN_OR_RETURN(std::shared_ptr<const ModelHandle> model, Find(name, version));
  return model;
}

void ServerImpl::Infer(const ModelHandle& handle, std::unique_ptr<InferRequest> request,
                       InferCallback done) {
  if (shutting_down_.load()) return done(Unavailable("the server is shutting down"));
  const auto* model = static_cast<const LoadedModel*>(&handle);  // only ServerImpl makes them
  const ModelConfig& config = *model->info.config;
  if (model->info.state != ModelState::kReady) {
    return done(
        Unavailable(fmt::format("model '{}' is not ready: {}", config.name, model->info.reason)));
  }
  // A model whose workers are all restarting still queues: the queue bound and deadlines apply,
  // and the requests go out when an instance is back.
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
    entry.client_deadline = now + std::chrono::microseconds(*request->timeout_us);
    entry.deadline = std::min(entry.deadline, entry.client_deadline);
  }
  entry.items = request->batch_size;
  entry.level = *level;
  entry.request = std::move(request);
  entry.done = std::move(done);
  Status queued = model->scheduler->Submit(std::move(entry));
  if (queued.code() == StatusCode::kUnavailable && !shutting_down_.load()) {
    // A reload swapped the model between our lookup and the submit (the old one drains): the
    // request starts over with the new one, validated against its config.
    auto current = Find(entry.request->model_name, entry.request->model_version);
    if (current.ok() && current->get() != model) {
      return Infer(**current, std::move(entry.request), std::move(entry.done));
    }
  }
  if (!queued.ok()) {
    model->stats->RecordDropped(queued.code(), Duration(0));
    entry.done(queued);
  }
}

StatusOr<std::vector<ModelStatistics>> ServerImpl::Statistics(std::string_view name,
                                                              int64_t version) const {
  std::vector<ModelStatistics> out;
  if (name.empty()) {
    for (const auto& [model_name, model] : Models()) out.push_back(model->stats->Read());
    return out;
  }
  ASSIGN_OR_RETURN(auto model, Find(name, version));
  out.push_back(model->stats->Read());
  return out;
}

ServerStatus ServerImpl::GetStatus() const {
  ServerStatus status;
  status.ready = IsReady();
  ModelMap models = Models();
  std::shared_ptr<const DeviceTelemetry> telemetry = LatestTelemetry();
  for (const Device& device : devices_) {
    auto d = static_cast<std::size_t>(device.index);
    int64_t planned_mb = 0;
    std::vector<std::string> instances;
    for (const auto& [name, model] : models) {
      planned_mb += model->planned_mb[d];
      for (std::size_t i = 0; i < model->placements.size(); ++i) {
        const auto& on = model->placements[i].devices;
        if (std::find(on.begin(), on.end(), device.index) != on.end()) {
          instances.push_back(fmt::format("{}/{}", name, i));
        }
      }
    }
    status.devices.push_back({.index = device.index,
                              .uuid = device.uuid,
                              .name = device.name,
                              .simulated = device.simulated,
                              .speed = device.speed,
                              .total_mb = device.total_mb,
                              .used_by_others_mb = device.used_by_others_mb,
                              .reserve_mb = options_.vram_reserve_mb,
                              .planned_mb = planned_mb,
                              .instances = std::move(instances)});
    if (telemetry) {
      for (const GpuTelemetry& gpu : telemetry->devices) {
        if (gpu.index != device.index) continue;
        status.devices.back().health = GpuHealthName(gpu.health);
        status.devices.back().health_detail = gpu.health_detail;
      }
    }
  }
  for (const auto& [name, model] : models) {
    ModelInfo info = CurrentInfo(*model);
    ModelStatus m;
    m.name = name;
    m.version = info.version;
    m.state = std::string(ModelStateName(info.state));
    m.reason = info.reason;
    m.routing = std::string(RoutingPolicyName(model->info.config->routing));
    m.max_batch_size = model->info.config->max_batch_size;
    if (model->placements.empty()) {
      m.vram_need = "unknown";  // it failed to load: nothing was placed
    } else if (!model->need.on_cpu) {
      m.vram_need_mb = model->need.mb;
      m.vram_need = NeedSourceName(model->need.source);
    }
    if (!model->scheduler) {
      status.models.push_back(std::move(m));
      continue;
    }
    SchedulerSnapshot snapshot = model->scheduler->Snapshot();
    std::string isolation =
        model->info.config->instances.isolation == Isolation::kThread ? "thread" : "process";
    for (std::size_t i = 0; i < snapshot.instances.size(); ++i) {
      const auto& row = snapshot.instances[i];
      m.instances.push_back(
          {.name = row.name,
           .device = model->instance_devices[i],
           .state = row.drained.empty() ? UpperCase(row.health.state) : "DRAINED",
           .isolation = isolation,
           .pid = row.health.pid,
           .restarts = row.health.restarts,
           .last_error = row.health.last_error,
           .drained = row.drained,
           .input_bytes_copied = row.health.input_bytes_copied,
           .input_bytes_in_place = row.health.input_bytes_in_place,
           .output_bytes_copied = row.health.output_bytes_copied,
           .output_bytes_in_place = row.health.output_bytes_in_place,
           .backend_batches = row.health.backend_batches,
           .backend_execute_us = row.health.backend_execute_ns / 1000,
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

Server::Load ServerImpl::CurrentLoad() const {
  ServerLoad load;
  for (const auto& [name, model] : Models()) {
    if (model->scheduler) load.Add(model->scheduler->Snapshot(), model->stats->inflight());
  }
  return {.queued = load.queued, .running = load.running, .utilization = load.utilization()};
}

std::string ServerImpl::MetricsText() const {
  const Server::Load load = CurrentLoad();
  queued_requests_->Set(static_cast<double>(load.queued));
  running_requests_->Set(static_cast<double>(load.running));
  utilization_->Set(load.utilization);
  return registry_.ExpositionText();
}

void ServerImpl::Drain(Duration timeout) {
  shutting_down_.store(true);  // not ready, refuse new requests
  std::vector<std::thread> drains;
  for (const auto& entry : Models()) {
    std::shared_ptr<const LoadedModel> model = entry.second;
    if (!model->scheduler) continue;
    drains.emplace_back([model, timeout] { model->scheduler->Drain(timeout); });
  }
  for (auto& drain : drains) drain.join();
}

void ServerImpl::Shutdown() {
  shutting_down_.store(true);  // each scheduler's Shutdown is idempotent
  for (auto& [name, model] : Models()) {
    if (model->scheduler) model->scheduler->Shutdown();
  }
}

}  // namespace switchyard
