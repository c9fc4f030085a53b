#include "server/request_validation.h"

#include <algorithm>
#include <set>

#include "fmt/format.h"

namespace switchyard {
namespace {

std::string ExpectedShape(const ModelConfig& config, const TensorSpec& spec) {
  std::string dims = ShapeToString(spec.dims);
  if (config.max_batch_size == 0) return dims;
  return spec.dims.empty() ? "[-1]" : "[-1," + dims.substr(1);
}

Status CheckShape(const ModelConfig& config, const TensorSpec& spec, const Tensor& tensor,
                  int64_t* batch) {
  std::size_t offset = config.max_batch_size > 0 ? 1 : 0;
  bool rank_ok = tensor.shape.size() == spec.dims.size() + offset;
  for (std::size_t i = 0; rank_ok && i < spec.dims.size(); ++i) {
    int64_t want = spec.dims[i];
    int64_t got = tensor.shape[i + offset];
    if (got < 0 || (want != -1 && want != got)) rank_ok = false;
  }
  if (!rank_ok) {
    return InvalidArgument(fmt::format("input '{}': shape {} does not match the model's {}",
                                       tensor.name, ShapeToString(tensor.shape),
                                       ExpectedShape(config, spec)));
  }
  if (offset == 0) return Status::Ok();
  int64_t b = tensor.shape[0];
  if (b < 1 || b > config.max_batch_size) {
    return InvalidArgument(fmt::format("input '{}': batch size {} is outside [1, {}]", tensor.name,
                                       b, config.max_batch_size));
  }
  if (*batch != 0 && *batch != b) {
    return InvalidArgument(fmt::format(
        "input '{}': batch size {} differs from the other inputs' {}", tensor.name, b, *batch));
  }
  *batch = b;
  return Status::Ok();
}

}  // namespace

Status ValidateRequest(const ModelConfig& config, InferRequest* request) {
  std::set<std::string_view> seen;
  int64_t batch = 0;
  for (const Tensor& tensor : request->inputs) {
    const TensorSpec* spec = config.FindInput(tensor.name);
    if (spec == nullptr) {
      return InvalidArgument(
          fmt::format("unknown input '{}' for model '{}'", tensor.name, config.name));
    }
    if (!seen.insert(tensor.name).second) {
      return InvalidArgument(fmt::format("input '{}' is given twice", tensor.name));
    }
    if (tensor.datatype != spec->datatype) {
      return InvalidArgument(fmt::format("input '{}': datatype {} does not match the model's {}",
                                         tensor.name, DataTypeName(tensor.datatype),
                                         DataTypeName(spec->datatype)));
    }
    RETURN_IF_ERROR(CheckShape(config, *spec, tensor, &batch));
    RETURN_IF_ERROR(tensor.Validate());
  }
  for (const TensorSpec& spec : config.inputs) {
    if (!seen.contains(spec.name)) {
      return InvalidArgument(
          fmt::format("missing input '{}' for model '{}'", spec.name, config.name));
    }
  }
  request->output_indices.clear();
  for (const std::string& name : request->requested_outputs) {
    const TensorSpec* spec = config.FindOutput(name);
    if (spec == nullptr) {
      return InvalidArgument(
          fmt::format("unknown output '{}' requested from model '{}'", name, config.name));
    }
    auto index = static_cast<uint32_t>(spec - config.outputs.data());
    if (std::find(request->output_indices.begin(), request->output_indices.end(), index) !=
        request->output_indices.end()) {
      return InvalidArgument(fmt::format("output '{}' is requested twice", name));
    }
    request->output_indices.push_back(index);
  }
  request->batch_size = batch > 0 ? batch : 1;
  return Status::Ok();
}

}  // namespace switchyard
