#include "tensor_spec.h"

#include <string_view>

#include "switchyard/backend_sdk/datatype.h"

namespace switchyard::torch_backend {

TensorSpec CopySpec(const SyTensorSpec& spec) {
  TensorSpec copy;
  copy.name = spec.name != nullptr ? spec.name : "";
  copy.datatype = spec.datatype;
  copy.dims.assign(spec.dims, spec.dims + spec.dim_count);
  return copy;
}

std::string DataTypeName(SyDataType datatype) {
  const std::string_view name = sdk::DataTypeName(datatype, "");
  if (name.empty()) return "UNKNOWN(" + std::to_string(static_cast<int>(datatype)) + ")";
  return std::string(name);
}

std::string DimsText(const Dims& dims) {
  std::string text = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i > 0) text += ",";
    text += std::to_string(dims[i]);
  }
  return text + "]";
}

bool ShapeMatches(const Dims& dims, const Dims& shape, bool batched) {
  const size_t offset = batched ? 1 : 0;
  if (shape.size() != dims.size() + offset) return false;
  if (batched && shape[0] < 0) return false;
  for (size_t i = 0; i < dims.size(); ++i) {
    const int64_t actual = shape[i + offset];
    if (actual < 0) return false;
    if (dims[i] != -1 && dims[i] != actual) return false;
  }
  return true;
}

bool ElementCount(const Dims& shape, uint64_t* count) {
  constexpr uint64_t kLimit = uint64_t{1} << 62;
  uint64_t total = 1;
  for (int64_t dim : shape) {
    if (dim < 0) return false;
    const auto size = static_cast<uint64_t>(dim);
    if (size != 0 && total > kLimit / size) return false;
    total *= size;
  }
  *count = total;
  return true;
}

sdk::Status ValidateRequestTensor(const TensorSpec& spec, SyDataType datatype, const Dims& shape,
                                  uint64_t byte_size, bool batched) {
  const std::string what = "input '" + spec.name + "'";
  if (datatype != spec.datatype) {
    return sdk::InvalidArgument(what + ": datatype " + DataTypeName(datatype) +
                                " where the model expects " + DataTypeName(spec.datatype));
  }
  if (!ShapeMatches(spec.dims, shape, batched)) {
    return sdk::InvalidArgument(what + ": shape " + DimsText(shape) + " does not match " +
                                (batched ? "[batch]+" : "") + DimsText(spec.dims));
  }
  if (batched && shape[0] < 1) {
    return sdk::InvalidArgument(what + ": batch dimension " + std::to_string(shape[0]) +
                                " (expected >= 1)");
  }
  uint64_t elements = 0;
  if (!ElementCount(shape, &elements)) {
    return sdk::InvalidArgument(what + ": shape " + DimsText(shape) + " is too large");
  }
  const uint64_t expected = elements * sdk::ElementSize(datatype);
  if (byte_size != expected) {
    return sdk::InvalidArgument(what + ": " + std::to_string(byte_size) + " bytes where shape " +
                                DimsText(shape) + " of " + DataTypeName(datatype) + " needs " +
                                std::to_string(expected));
  }
  return sdk::Status::Ok();
}

sdk::Status ValidateModelOutput(const TensorSpec& spec, const Dims& shape, bool batched,
                                int64_t expected_rows) {
  const std::string what = "output '" + spec.name + "'";
  if (!ShapeMatches(spec.dims, shape, batched)) {
    return sdk::Internal(what + ": the model produced shape " + DimsText(shape) +
                         ", which does not match the config's " + (batched ? "[batch]+" : "") +
                         DimsText(spec.dims));
  }
  if (batched && shape[0] != expected_rows) {
    return sdk::Internal(what + ": the model produced " + std::to_string(shape[0]) +
                         " rows for a batch of " + std::to_string(expected_rows));
  }
  return sdk::Status::Ok();
}

}  // namespace switchyard::torch_backend
