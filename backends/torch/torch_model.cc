#include "torch_model.h"

#include <filesystem>
#include <system_error>

namespace switchyard::torch_backend {
namespace {

sdk::Status CheckSpecs(const std::vector<TensorSpec>& specs, const char* kind) {
  for (const TensorSpec& spec : specs) {
    if (!IsSupportedDataType(spec.datatype)) {
      return sdk::Unsupported(std::string(kind) + " '" + spec.name + "': datatype " +
                              DataTypeName(spec.datatype) +
                              " is not supported by the torch backend (supported: BOOL, "
                              "UINT8, INT8, INT16, INT32, INT64, FP16, BF16, FP32, FP64)");
    }
  }
  return sdk::Status::Ok();
}

}  // namespace

bool IsSupportedDataType(SyDataType datatype) {
  switch (datatype) {
    case SY_TYPE_BOOL:
    case SY_TYPE_UINT8:
    case SY_TYPE_INT8:
    case SY_TYPE_INT16:
    case SY_TYPE_INT32:
    case SY_TYPE_INT64:
    case SY_TYPE_FP16:
    case SY_TYPE_BF16:
    case SY_TYPE_FP32:
    case SY_TYPE_FP64:
      return true;
    default:
      return false;
  }
}

sdk::StatusOr<std::unique_ptr<TorchModel>> TorchModel::Create(const SyHostApi* host,
                                                              const SyModelDesc& desc) {
  std::unique_ptr<TorchModel> model(new TorchModel());
  model->host_ = host;
  model->name_ = desc.name != nullptr ? desc.name : "";
  model->version_ = desc.version;
  model->max_batch_size_ = desc.max_batch_size;
  if (desc.max_batch_size < 0) {
    return sdk::InvalidArgument("max_batch_size " + std::to_string(desc.max_batch_size) +
                                " is negative");
  }
  for (uint32_t i = 0; i < desc.input_count; ++i)
    model->inputs_.push_back(CopySpec(desc.inputs[i]));
  for (uint32_t i = 0; i < desc.output_count; ++i) {
    model->outputs_.push_back(CopySpec(desc.outputs[i]));
  }
  if (model->inputs_.empty() || model->outputs_.empty()) {
    return sdk::InvalidArgument("the torch backend needs at least one input and one output");
  }
  SY_RETURN_IF_ERROR(CheckSpecs(model->inputs_, "input"));
  SY_RETURN_IF_ERROR(CheckSpecs(model->outputs_, "output"));

  auto params = ParseTorchParameters(desc.parameters, desc.parameter_count, desc.max_batch_size);
  if (!params.ok()) return params.status();
  model->parameters_ = std::move(params).value();

  const std::filesystem::path file(model->parameters_.model_file);
  const std::filesystem::path version_dir(desc.version_dir != nullptr ? desc.version_dir : "");
  model->model_path_ = (file.is_absolute() ? file : version_dir / file).string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(model->model_path_, ec)) {
    return sdk::InvalidArgument("model file '" + model->model_path_ +
                                "' does not exist or is not a file (set "
                                "parameters.model_file to name another)");
  }
  return model;
}

sdk::Status TorchModel::ValidateRequest(const std::vector<SyTensor>& inputs) const {
  if (inputs.size() != inputs_.size()) {
    return sdk::InvalidArgument("expected " + std::to_string(inputs_.size()) + " inputs, got " +
                                std::to_string(inputs.size()));
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    const SyTensor& tensor = inputs[i];
    const Dims shape(tensor.shape, tensor.shape + tensor.dim_count);
    SY_RETURN_IF_ERROR(
        ValidateRequestTensor(inputs_[i], tensor.datatype, shape, tensor.byte_size, batched()));
    if (batched() && shape[0] != inputs[0].shape[0]) {
      return sdk::InvalidArgument("input '" + inputs_[i].name + "': batch dimension " +
                                  std::to_string(shape[0]) + " differs from input '" +
                                  inputs_[0].name + "''s " + std::to_string(inputs[0].shape[0]));
    }
  }
  return sdk::Status::Ok();
}

void TorchModel::Log(SyLogLevel level, const std::string& message) const {
  if (host_ == nullptr || host_->log == nullptr) return;
  const std::string line = "torch model '" + name_ + "': " + message;
  host_->log(level, line.c_str());
}

}  // namespace switchyard::torch_backend
