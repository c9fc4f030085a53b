#include "devices/model_need.h"

#include <algorithm>
#include <charconv>
#include <string>

#include "fmt/format.h"

namespace switchyard {
namespace {

// The sim parameter `key` as an integer >= 0 (MiB); 0 when absent.
StatusOr<int64_t> SimMegabytes(const ModelConfig& config, const std::string& key) {
  auto it = config.parameters.find(key);
  if (it == config.parameters.end()) return int64_t{0};
  const std::string& text = it->second;
  int64_t value = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) {
    return InvalidArgument(
        fmt::format("model '{}': parameters.{}: expected an integer >= 0 (MiB), got '{}'",
                    config.name, key, text));
  }
  return value;
}

}  // namespace

StatusOr<int64_t> InstanceNeedMb(const ModelConfig& config) {
  if (config.instances.vram_mb.has_value()) return *config.instances.vram_mb;
  if (config.backend == "sim") {
    ASSIGN_OR_RETURN(int64_t base, SimMegabytes(config, "memory_mb"));
    ASSIGN_OR_RETURN(int64_t per_item, SimMegabytes(config, "memory_mb_per_item"));
    const int64_t items = std::max(1, config.max_batch_size);
    if (per_item > (INT64_MAX - base) / items) {
      return InvalidArgument(
          fmt::format("model '{}': parameters.memory_mb_per_item: {} MiB x {} items is too large",
                      config.name, per_item, items));
    }
    return base + per_item * items;
  }
  // Known only once an instance has loaded and warmed up (MeasuredAtLoad).
  return int64_t{0};
}

NeedSource InstanceNeedSource(const ModelConfig& config) {
  if (config.instances.vram_mb.has_value()) return NeedSource::kDeclared;
  return config.backend == "sim" ? NeedSource::kEstimated : NeedSource::kUnknown;
}

bool MeasuredAtLoad(const ModelConfig& config) {
  return !config.instances.vram_mb.has_value() && config.instances.isolation == Isolation::kProcess;
}

StatusOr<PlacementRequest> PlacementRequestFor(const ModelConfig& config) {
  ASSIGN_OR_RETURN(int64_t need_mb, InstanceNeedMb(config));
  // A simulated GPU runs the sim backend's batches one at a time, whatever the number of
  // instances on it: a second instance there adds no throughput.
  return PlacementRequest{.model = config.name,
                          .instances = config.instances,
                          .need_mb = need_mb,
                          .need_source = InstanceNeedSource(config),
                          .overlaps_on_device = config.backend != "sim"};
}

StatusOr<Plan> PlanRepository(const std::vector<RepositoryModel>& models,
                              const std::vector<Device>& devices, int64_t vram_reserve_mb) {
  std::vector<PlacementRequest> requests;
  for (const RepositoryModel& model : models) {
    ASSIGN_OR_RETURN(PlacementRequest request, PlacementRequestFor(model.config));
    requests.push_back(std::move(request));
  }
  return PlanPlacement(requests, devices, vram_reserve_mb);
}

}  // namespace switchyard
