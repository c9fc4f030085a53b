#include "plugin/partial_outputs.h"

#include <cstddef>
#include <vector>

#include "fmt/format.h"
#include "plugin/output_ledger.h"

namespace switchyard::plugin {
namespace {

std::span<const std::byte> BytesOf(const SyOutput& output) {
  return {static_cast<const std::byte*>(output.data), static_cast<std::size_t>(output.byte_size)};
}

Shape ShapeOf(const SyOutput& output) {
  return Shape(output.shape, output.shape + output.dim_count);
}

}  // namespace

Status CheckPartialOutputs(const ModelConfig& config, std::span<const SyOutput> outputs) {
  std::vector<bool> seen(config.outputs.size(), false);
  uint64_t total = 0;
  for (const SyOutput& output : outputs) {
    if (output.output >= config.outputs.size()) {
      return InvalidArgument(
          fmt::format("partial response: the model has no output {}", output.output));
    }
    const TensorSpec& spec = config.outputs[output.output];
    if (seen[output.output]) {
      return InvalidArgument(
          fmt::format("partial response: output '{}' is given twice", spec.name));
    }
    seen[output.output] = true;
    if (output.dim_count > kMaxPartialOutputDims || (output.shape == nullptr && output.dim_count)) {
      return InvalidArgument(fmt::format("partial response: output '{}' has {} dims (at most {})",
                                         spec.name, output.dim_count, kMaxPartialOutputDims));
    }
    if (output.data == nullptr && output.byte_size > 0) {
      return InvalidArgument(fmt::format("partial response: output '{}' has no data", spec.name));
    }
    total += output.byte_size;
    if (output.byte_size > SY_MAX_PARTIAL_RESPONSE_BYTES || total > SY_MAX_PARTIAL_RESPONSE_BYTES) {
      return InvalidArgument(fmt::format(
          "partial response: more than {} bytes of outputs (the final response has no such cap)",
          SY_MAX_PARTIAL_RESPONSE_BYTES));
    }
    const Shape shape = ShapeOf(output);
    RETURN_IF_ERROR(CheckOutputSize(spec, shape, output.byte_size));
    const Tensor view{.name = spec.name,
                      .datatype = spec.datatype,
                      .shape = shape,
                      .data = TensorData::Borrowed(BytesOf(output))};
    if (Status valid = view.Validate(); !valid.ok()) {
      return InvalidArgument("partial response: " + valid.message());
    }
  }
  return Status::Ok();
}

std::vector<Tensor> CopyPartialOutputs(const ModelConfig& config,
                                       std::span<const SyOutput> outputs) {
  std::vector<Tensor> tensors;
  tensors.reserve(outputs.size());
  for (const SyOutput& output : outputs) {
    const TensorSpec& spec = config.outputs[output.output];
    const auto bytes = BytesOf(output);
    tensors.push_back(
        {.name = spec.name,
         .datatype = spec.datatype,
         .shape = ShapeOf(output),
         .data = TensorData::Owned(std::vector<std::byte>(bytes.begin(), bytes.end()))});
  }
  return tensors;
}

}  // namespace switchyard::plugin
