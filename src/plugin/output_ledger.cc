#include "plugin/output_ledger.h"

#include "fmt/format.h"

namespace switchyard::plugin {

Status CheckOutputSize(const TensorSpec& spec, const Shape& shape, uint64_t byte_size) {
  int64_t count = ElementCount(shape);
  if (count < 0) {
    return InvalidArgument(
        fmt::format("output '{}': bad shape {}", spec.name, ShapeToString(shape)));
  }
  std::size_t element = DataTypeSize(spec.datatype);
  bool fits = element == 0 ? byte_size >= 4 * static_cast<uint64_t>(count)
                           : byte_size == static_cast<uint64_t>(count) * element;
  if (!fits) {
    return InvalidArgument(fmt::format("output '{}': {} bytes do not fit {} of {}", spec.name,
                                       byte_size, DataTypeName(spec.datatype),
                                       ShapeToString(shape)));
  }
  return Status::Ok();
}

namespace detail {

Status CheckAllocation(const ModelConfig& config, std::size_t request_count, uint32_t request,
                       uint32_t output, bool allocated, const Shape& shape, uint64_t byte_size) {
  if (request >= request_count || output >= config.outputs.size()) {
    return InvalidArgument(fmt::format("no output {} of request {}", output, request));
  }
  const TensorSpec& spec = config.outputs[output];
  if (allocated) {
    return InvalidArgument(
        fmt::format("output '{}' of request {} allocated twice", spec.name, request));
  }
  return CheckOutputSize(spec, shape, byte_size);
}

}  // namespace detail
}  // namespace switchyard::plugin
