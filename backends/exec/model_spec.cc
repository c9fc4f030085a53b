#include "exec/model_spec.h"

#include <cstddef>

namespace switchyard::exec {
namespace {

std::string Str(const char* s) { return s == nullptr ? std::string() : std::string(s); }

std::vector<TensorInfo> CopySpecs(const SyTensorSpec* specs, uint32_t count) {
  std::vector<TensorInfo> out;
  out.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    TensorInfo t;
    t.name = Str(specs[i].name);
    t.datatype = specs[i].datatype;
    if (specs[i].dim_count > 0) t.dims.assign(specs[i].dims, specs[i].dims + specs[i].dim_count);
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace

ModelSpec CopyModelDesc(const SyModelDesc& desc) {
  ModelSpec m;
  m.name = Str(desc.name);
  m.version = desc.version;
  m.model_dir = Str(desc.model_dir);
  m.version_dir = Str(desc.version_dir);
  m.max_batch_size = desc.max_batch_size;
  m.inputs = CopySpecs(desc.inputs, desc.input_count);
  m.outputs = CopySpecs(desc.outputs, desc.output_count);
  for (uint32_t i = 0; i < desc.parameter_count; ++i) {
    m.parameters.emplace_back(Str(desc.parameters[i].key), Str(desc.parameters[i].value));
  }
  if (desc.struct_size >= offsetof(SyModelDesc, backend) + sizeof(desc.backend)) {
    m.backend = Str(desc.backend);
  }
  return m;
}

InstanceSpec CopyInstanceDesc(const SyInstanceDesc& desc) {
  InstanceSpec s;
  s.name = Str(desc.name);
  s.index = desc.index;
  s.gpu_count = desc.gpu_count;
  if (desc.struct_size >=
      offsetof(SyInstanceDesc, cuda_visible_devices) + sizeof(desc.cuda_visible_devices)) {
    s.cuda_visible_devices = Str(desc.cuda_visible_devices);
  }
  return s;
}

}  // namespace switchyard::exec
