#include "plugin/model_description.h"

#include <filesystem>

#include "fmt/format.h"
#include "plugin/host_api.h"

namespace switchyard::plugin {
namespace {

SyTensorSpec Spec(const TensorSpec& spec) {
  return {.name = spec.name.c_str(),
          .datatype = ToSyDataType(spec.datatype),
          .dims = spec.dims.data(),
          .dim_count = static_cast<uint32_t>(spec.dims.size())};
}

std::string Absolute(const std::string& dir) {
  if (dir.empty()) return dir;
  return std::filesystem::absolute(dir).lexically_normal().string();
}

}  // namespace

ModelDescription::ModelDescription(const ModelConfig& config, int64_t version,
                                   const std::string& model_dir)
    : name_(config.name),
      backend_(config.backend),
      model_dir_(Absolute(model_dir)),
      version_dir_(model_dir_.empty() ? "" : fmt::format("{}/{}", model_dir_, version)) {
  for (const auto& spec : config.inputs) inputs_.push_back(Spec(spec));
  for (const auto& spec : config.outputs) outputs_.push_back(Spec(spec));
  for (const auto& [key, value] : config.parameters) {
    parameters_.push_back({.key = key.c_str(), .value = value.c_str()});
  }
  desc_ = {.struct_size = sizeof(SyModelDesc),
           .name = name_.c_str(),
           .version = version,
           .model_dir = model_dir_.c_str(),
           .version_dir = version_dir_.c_str(),
           .max_batch_size = config.max_batch_size,
           .inputs = inputs_.data(),
           .input_count = static_cast<uint32_t>(inputs_.size()),
           .outputs = outputs_.data(),
           .output_count = static_cast<uint32_t>(outputs_.size()),
           .parameters = parameters_.data(),
           .parameter_count = static_cast<uint32_t>(parameters_.size()),
           .backend = backend_.c_str(),
           .in_server_process = config.instances.isolation == Isolation::kThread ? 1 : 0};
}

}  // namespace switchyard::plugin
