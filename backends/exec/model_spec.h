#pragma once
// The plugin's own copy of what SyModelDesc / SyInstanceDesc describe (the host's pointers are
// valid only during the call that passes them).

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "switchyard/backend.h"

namespace switchyard::exec {

struct TensorInfo {
  std::string name;
  SyDataType datatype = SY_TYPE_FP32;
  std::vector<int64_t> dims;  // without the batch dimension; -1: variable
};

struct ModelSpec {
  std::string name;
  std::string backend;  // the config's backend name; "" from a host too old to say
  int64_t version = 0;
  std::string model_dir;
  std::string version_dir;
  int32_t max_batch_size = 0;  // 0: no batch dimension
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
  std::vector<std::pair<std::string, std::string>> parameters;  // in the host's order

  bool batched() const { return max_batch_size > 0; }
  // A `backend: python` model: the program is the Python runner (exec_parameters.h).
  bool python() const { return backend == "python"; }
};

struct InstanceSpec {
  std::string name;  // e.g. "adder/0"
  int32_t index = 0;
  int32_t gpu_count = 0;
  // CUDA_VISIBLE_DEVICES for the instance's GPUs; nullopt from a host too old to say.
  std::optional<std::string> cuda_visible_devices;
};

// Deep copies. REQUIRES: the descriptor's pointers are valid (NULL strings become "").
ModelSpec CopyModelDesc(const SyModelDesc& desc);
InstanceSpec CopyInstanceDesc(const SyInstanceDesc& desc);

}  // namespace switchyard::exec
