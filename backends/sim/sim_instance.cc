#include "sim_instance.h"

#include "fmt/format.h"

namespace switchyard::sim {

StatusOr<std::unique_ptr<SimInstance>> SimInstance::Create(const ModelConfig* config, int index,
                                                           SimDevice* device) {
  ASSIGN_OR_RETURN(SimParameters params, ParseSimParameters(*config));
  if (params.crash_on_value || params.crash_at_load || params.device_lost_on_value) {
    return InvalidArgument(
        "the crash_on_value, crash_at_load and device_lost_on_value parameters need "
        "`isolation: process`");
  }
  return std::unique_ptr<SimInstance>(new SimInstance(config, params, index, device));
}

SimInstance::SimInstance(const ModelConfig* config, SimParameters params, int index,
                         SimDevice* device)
    : config_(config),
      params_(params),
      name_(fmt::format("{}/{}", config->name, index)),
      rng_(params.seed + static_cast<uint64_t>(index)),
      own_device_(device == nullptr ? std::make_unique<SimDevice>(name_, 1.0) : nullptr),
      device_(device != nullptr ? device : own_device_.get()) {}

void SimInstance::Execute(std::span<InferRequest* const> requests, BatchDone done) {
  auto outputs = std::make_shared<std::vector<RequestOutputs>>();
  device_->Submit([this, requests, outputs] { return RunBatch(requests, *outputs); },
                  [outputs, done = std::move(done)] { done(std::move(*outputs)); });
}

Duration SimInstance::RunBatch(std::span<InferRequest* const> requests,
                               std::vector<RequestOutputs>& outputs) {
  int64_t items = 0;
  for (const InferRequest* request : requests) items += request->batch_size;
  BatchDraw draw = DrawBatch(params_, rng_);
  outputs.reserve(requests.size());
  for (const InferRequest* request : requests) {
    if (draw.fail) {
      outputs.emplace_back(InjectedFailure(name_, params_));
    } else {
      outputs.push_back(Compute(params_, *config_, *request));
    }
  }
  return std::chrono::duration_cast<Duration>(BatchServiceTime(params_, items) * draw.scale);
}

}  // namespace switchyard::sim
