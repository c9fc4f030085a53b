// ServerImpl's loading half: how a repository's models are measured, placed and made into
// schedulers with their instances (server_impl.h has the contracts). The serving half is
// server_impl.cc.

#include <algorithm>

#include "fmt/format.h"
#include "instance/warmup.h"
#include "server/server_impl.h"
#include "spdlog/spdlog.h"

namespace switchyard {
namespace {

std::string DeviceLabel(const InstancePlacement& placement) {
  if (placement.devices.empty()) return "cpu";
  std::string label;
  for (int index : placement.devices)
    label += (label.empty() ? "GPU" : "+GPU") + std::to_string(index);
  return label;
}

}  // namespace

StatusOr<std::vector<std::unique_ptr<ServerImpl::LoadedModel>>> ServerImpl::PlaceAndMake(
    std::vector<RepositoryModel> found, const std::vector<Device>& devices, bool log_plan) {
  std::vector<Candidate> candidates;
  std::vector<NeedProbeSpec> specs;
  std::vector<std::size_t> probed;  // specs[i] probes candidates[probed[i]]
  for (RepositoryModel& model : found) {
    Candidate candidate;
    candidate.config = std::make_shared<const ModelConfig>(std::move(model.config));
    candidate.path = std::move(model.path);
    candidate.versions = std::move(model.versions);
    ASSIGN_OR_RETURN(candidate.request,
                     PlacementRequestFor(*candidate.config, factory_->placement_hints()));
    if (MeasuredAtLoad(*candidate.config)) {
      ASSIGN_OR_RETURN(auto groups,
                       DeviceGroups(candidate.request, static_cast<int>(devices.size())));
      if (!groups.empty()) {  // on CPU there is nothing to measure
        probed.push_back(candidates.size());
        specs.push_back({.config = candidate.config.get(),
                         .version = candidate.versions.back(),
                         .model_dir = candidate.path,
                         .devices = groups.front()});
      }
    }
    candidates.push_back(std::move(candidate));
  }
  std::vector<StatusOr<NeedProbe>> probes = StartNeedProbes(*factory_, specs);
  for (std::size_t i = 0; i < probes.size(); ++i) {
    Candidate& candidate = candidates[probed[i]];
    if (!probes[i].ok()) {
      // A worker that cannot load leaves the model unavailable; a config the server refuses, or
      // a backend it lacks, is an error.
      if (probes[i].status().code() != StatusCode::kUnavailable) return probes[i].status();
      candidate.failed = probes[i].status();
      continue;
    }
    // A backend may count only its own allocations; NVML also sees the worker's CUDA context.
    const std::optional<int64_t> process_mb =
        nvml_ ? ProcessMemoryMb(*nvml_, *probes[i]) : std::nullopt;
    probes[i]->need_mb = std::max(probes[i]->need_mb, process_mb.value_or(0));
    candidate.request.need_mb = probes[i]->need_mb;
    candidate.request.need_source = NeedSource::kMeasured;
    const ModelConfig& config = *candidate.config;
    spdlog::info(
        "model '{}': one instance needs {} MiB of device memory (measured on GPU{} after "
        "load{}; the backend reported {} MiB, NVML {})",
        config.name, probes[i]->need_mb, fmt::join(probes[i]->devices, "+GPU"),
        config.warmup.requests == 0
            ? " only: no warm-up"
            : fmt::format(" and {} warm-up request(s) of batch {}", config.warmup.requests,
                          std::max(1, config.max_batch_size)),
        probes[i]->reported_mb,
        process_mb ? fmt::format("{} MiB for the worker process and its programs", *process_mb)
                   : std::string("cannot tell"));
    candidate.probe = std::move(probes[i]).value();
  }
  std::vector<PlacementRequest> requests;
  for (const Candidate& candidate : candidates) {
    if (candidate.failed.ok()) requests.push_back(candidate.request);
  }
  ASSIGN_OR_RETURN(Plan plan, PlanPlacement(requests, devices, options_.vram_reserve_mb));
  if (log_plan) spdlog::info("{}", FormatPlan(plan, devices));
  std::vector<std::unique_ptr<LoadedModel>> loaded;
  for (Candidate& candidate : candidates) {
    const std::string name = candidate.config->name;
    static const std::vector<InstancePlacement> kNone;
    const bool placed = candidate.failed.ok();
    PlannedNeed need = placed ? plan.needs.at(name) : PlannedNeed{};
    ASSIGN_OR_RETURN(auto model,
                     MakeModel(std::move(candidate), placed ? plan.models.at(name) : kNone, need));
    loaded.push_back(std::move(model));
  }
  return loaded;
}

std::vector<int64_t> ServerImpl::MemoryByDevice(const std::vector<InstancePlacement>& placements,
                                                int64_t need_mb) const {
  std::vector<int64_t> mb(devices_.size(), 0);
  for (const auto& placement : placements) {
    for (int device : placement.devices) mb[static_cast<std::size_t>(device)] += need_mb;
  }
  return mb;
}

StatusOr<std::unique_ptr<ServerImpl::LoadedModel>> ServerImpl::MakeModel(
    Candidate candidate, const std::vector<InstancePlacement>& placements,
    const PlannedNeed& need) {
  auto loaded = std::make_unique<LoadedModel>();
  std::shared_ptr<const ModelConfig> config = candidate.config;
  loaded->info.config = config;
  loaded->info.versions = candidate.versions;
  loaded->info.version = candidate.versions.back();
  loaded->generation = next_generation_.fetch_add(1);
  loaded->placements = placements;
  loaded->need = need;
  loaded->planned_mb = MemoryByDevice(placements, need.mb);
  loaded->stats =
      std::make_unique<ModelStats>(config->name, std::to_string(loaded->info.version), &registry_);
  auto make = [&]() -> StatusOr<ModelInstances> {
    if (!candidate.failed.ok()) return candidate.failed;
    // The probe is instance 0 when the plan puts instance 0 where it runs; otherwise it ends
    // before the instances the plan wants start.
    std::optional<NeedProbe> probe = std::move(candidate.probe);
    if (probe && (placements.empty() || placements.front().devices != probe->devices)) {
      spdlog::info(
          "model '{}': the plan places its instance 0 elsewhere than GPU{}, where its need was "
          "measured; that instance ends",
          config->name, fmt::join(probe->devices, "+GPU"));
      probe.reset();
    }
    const std::size_t first = probe ? 1 : 0;
    ASSIGN_OR_RETURN(ModelInstances instances,
                     factory_->Make(config.get(), loaded->info.version, candidate.path,
                                    std::vector<InstancePlacement>(
                                        placements.begin() + static_cast<std::ptrdiff_t>(first),
                                        placements.end()),
                                    first));
    if (probe) {
      instances.instances.insert(instances.instances.begin(),
                                 std::move(probe->made.instances.front()));
    }
    return instances;
  };
  StatusOr<ModelInstances> made = make();
  if (!made.ok()) {
    // A worker that cannot load leaves the model unavailable; a config the server refuses, or a
    // backend it lacks, is an error.
    if (made.status().code() != StatusCode::kUnavailable) return made.status();
    spdlog::error("model '{}' is not ready: {}", config->name, made.status().message());
    loaded->info.state = ModelState::kUnavailable;
    loaded->info.reason = made.status().message();
    return loaded;
  }
  loaded->info.state = ModelState::kReady;
  if (made->need_warmup) {
    for (auto& instance : made->instances) {
      if (Status warm = WarmUp(*instance, *config); !warm.ok()) {
        spdlog::error("model '{}' is not ready: {}", config->name, warm.message());
        loaded->info.state = ModelState::kUnavailable;
        loaded->info.reason = warm.message();
        break;
      }
    }
  }
  for (std::size_t i = 0; i < made->instances.size(); ++i) {
    if (!placements[i].devices.empty()) {
      made->instances[i]->SetDeviceFaultListener(
          [this, generation = loaded->generation, name = made->instances[i]->name(),
           devices = placements[i].devices](bool lost, const std::string& why) {
            OnDeviceFault(generation, name, devices, lost, why);
          });
    }
    loaded->instance_devices.push_back(DeviceLabel(placements[i]));
    loaded->stats->AddInstance(made->instances[i]->name(), loaded->instance_devices.back());
  }
  loaded->plugin_model = std::move(made->plugin_model);
  if (config->instances.isolation == Isolation::kProcess && options_.body_pool_mb > 0) {
    // Regions of 16 MiB: a region is reused once every body in it is done, so small regions
    // waste little while a few requests stay queued long.
    constexpr int64_t kRegionMb = 16;
    loaded->body_pool = ipc::ShmPool::Create(
        {.name = "switchyard-bodies-" + config->name.substr(0, 200),
         .region_bytes = uint64_t{kRegionMb} << 20,
         .max_regions = static_cast<int>((options_.body_pool_mb + kRegionMb - 1) / kRegionMb)});
  }
  loaded->scheduler =
      std::make_unique<ModelScheduler>(SchedulerOptionsFromConfig(*config, loaded->info.version),
                                       std::move(made->instances), clock_, loaded->stats.get());
  if (loaded->info.state == ModelState::kReady) {
    spdlog::info("model '{}' version {} ready: {} instance(s), backend {}, isolation {}",
                 config->name, loaded->info.version, loaded->scheduler->instance_count(),
                 config->backend,
                 config->instances.isolation == Isolation::kThread ? "thread" : "process");
  }
  return loaded;
}

}  // namespace switchyard
