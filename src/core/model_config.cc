#include "switchyard/model_config.h"

namespace switchyard {
namespace {

const TensorSpec* FindSpec(const std::vector<TensorSpec>& specs, std::string_view name) {
  for (const auto& spec : specs) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

}  // namespace

const TensorSpec* ModelConfig::FindInput(std::string_view input_name) const {
  return FindSpec(inputs, input_name);
}

const TensorSpec* ModelConfig::FindOutput(std::string_view output_name) const {
  return FindSpec(outputs, output_name);
}

std::string_view RoutingPolicyName(RoutingPolicy policy) {
  switch (policy) {
    case RoutingPolicy::kFastest:
      return "fastest";
    case RoutingPolicy::kLeastOutstanding:
      return "least_outstanding";
    case RoutingPolicy::kPowerOfTwo:
      return "p2c";
    case RoutingPolicy::kRoundRobin:
      return "round_robin";
  }
  return "unknown";
}

}  // namespace switchyard
