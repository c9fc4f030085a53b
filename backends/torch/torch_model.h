#pragma once
// A loaded torch model's state: its parsed configuration, shared read-only by its instances
// (each instance loads its own copy of the module onto its own device). Pure: no torch.
// Thread-safety: immutable after Create; safe to read from any number of threads.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "parameters.h"
#include "switchyard/backend.h"
#include "switchyard/backend_sdk/status.h"
#include "tensor_spec.h"

namespace switchyard::torch_backend {

class TorchModel {
 public:
  // Copies what it needs from `desc` (valid only during the call), parses the parameters,
  // rejects datatypes the backend cannot serve (SY_ERROR_UNSUPPORTED naming the tensor) and a
  // model file that does not exist (SY_ERROR_INVALID_ARGUMENT naming the path). `host` is kept for
  // logging and must outlive the model.
  static sdk::StatusOr<std::unique_ptr<TorchModel>> Create(const SyHostApi* host,
                                                           const SyModelDesc& desc);

  const std::string& name() const { return name_; }
  int64_t version() const { return version_; }
  bool batched() const { return max_batch_size_ > 0; }
  int32_t max_batch_size() const { return max_batch_size_; }
  const std::vector<TensorSpec>& inputs() const { return inputs_; }
  const std::vector<TensorSpec>& outputs() const { return outputs_; }
  const TorchParameters& parameters() const { return parameters_; }
  // The TorchScript file to load (version_dir joined with parameters.model_file).
  const std::string& model_path() const { return model_path_; }

  // Checks one request's inputs (in config order) against the config; with a batch dimension,
  // every input must have the same first dimension. SY_ERROR_INVALID_ARGUMENT naming the input.
  sdk::Status ValidateRequest(const std::vector<SyTensor>& inputs) const;

  // Writes a line to the host's log, prefixed with the model's name. Any thread.
  void Log(SyLogLevel level, const std::string& message) const;

 private:
  TorchModel() = default;

  const SyHostApi* host_ = nullptr;
  std::string name_;
  int64_t version_ = 0;
  int32_t max_batch_size_ = 0;
  std::vector<TensorSpec> inputs_;
  std::vector<TensorSpec> outputs_;
  TorchParameters parameters_;
  std::string model_path_;
};

// Whether the backend can serve tensors of `datatype` (BYTES and unsigned types wider than 8
// bits cannot: libtorch has no such tensors in every supported version).
bool IsSupportedDataType(SyDataType datatype);

}  // namespace switchyard::torch_backend
