#include "devices/model_need.h"

#include <charconv>

#include "fmt/format.h"

namespace switchyard {

StatusOr<int64_t> InstanceNeedMb(const ModelConfig& config) {
  if (config.instances.vram_mb.has_value()) return *config.instances.vram_mb;
  if (config.backend == "sim") {
    auto it = config.parameters.find("memory_mb");
    if (it == config.parameters.end()) return int64_t{0};
    const std::string& text = it->second;
    int64_t value = -1;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < 0) {
      return InvalidArgument(
          fmt::format("model '{}': parameters.memory_mb: expected an integer >= 0 (MiB), got '{}'",
                      config.name, text));
    }
    return value;
  }
  // `measure` for a real backend means the peak device memory of load plus warm-up, measured in
  // the instance's worker process at load. That comes with worker processes; until then such a
  // model is planned as needing no device memory.
  return int64_t{0};
}

StatusOr<Plan> PlanRepository(const std::vector<RepositoryModel>& models,
                              const std::vector<Device>& devices, int64_t vram_reserve_mb) {
  std::vector<PlacementRequest> requests;
  for (const RepositoryModel& model : models) {
    ASSIGN_OR_RETURN(int64_t need_mb, InstanceNeedMb(model.config));
    requests.push_back(PlacementRequest{
        .model = model.config.name, .instances = model.config.instances, .need_mb = need_mb});
  }
  return PlanPlacement(requests, devices, vram_reserve_mb);
}

}  // namespace switchyard
