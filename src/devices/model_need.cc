#include "devices/model_need.h"

namespace switchyard {

bool MeasuredAtLoad(const ModelConfig& config) {
  return !config.instances.vram_mb.has_value() && config.instances.isolation == Isolation::kProcess;
}

StatusOr<PlacementRequest> PlacementRequestFor(const ModelConfig& config,
                                               const plugin::PlacementHintReader& hints) {
  ASSIGN_OR_RETURN(plugin::PlacementHints told, hints.Read(config));
  PlacementRequest request{.model = config.name,
                           .instances = config.instances,
                           .overlaps_on_device = told.overlaps_on_device};
  if (config.instances.vram_mb.has_value()) {
    request.need_mb = *config.instances.vram_mb;
    request.need_source = NeedSource::kDeclared;
  } else if (told.need_mb.has_value()) {
    request.need_mb = *told.need_mb;
    request.need_source = NeedSource::kEstimated;
  } else {
    request.need_mb = 0;  // known only once an instance has loaded and warmed up (MeasuredAtLoad)
    request.need_source = NeedSource::kUnknown;
  }
  return request;
}

StatusOr<Plan> PlanRepository(const std::vector<RepositoryModel>& models,
                              const std::vector<Device>& devices, int64_t vram_reserve_mb,
                              const plugin::PlacementHintReader& hints) {
  std::vector<PlacementRequest> requests;
  for (const RepositoryModel& model : models) {
    ASSIGN_OR_RETURN(PlacementRequest request, PlacementRequestFor(model.config, hints));
    requests.push_back(std::move(request));
  }
  return PlanPlacement(requests, devices, vram_reserve_mb);
}

}  // namespace switchyard
