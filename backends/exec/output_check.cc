#include "exec/output_check.h"

#include "exec/datatypes.h"
#include "switchyard/backend_sdk/datatype.h"

namespace switchyard::exec {
namespace {

std::string ShapeText(std::span<const int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

}  // namespace

sdk::Status CheckOutput(const TensorInfo& spec, bool batched, int64_t batch_size,
                        const OutputTensor& tensor) {
  std::string what = "output '" + spec.name + "'";
  auto datatype = sdk::ParseDataTypeName(tensor.datatype);
  if (!datatype.has_value()) {
    return sdk::Internal(what + ": unknown datatype '" + std::string(tensor.datatype) + "'");
  }
  if (*datatype != spec.datatype) {
    return sdk::Internal(what + ": the program returned " + std::string(tensor.datatype) +
                         " but the config declares " +
                         std::string(sdk::DataTypeName(spec.datatype)));
  }
  std::vector<int64_t> expected;
  if (batched) expected.push_back(batch_size);
  expected.insert(expected.end(), spec.dims.begin(), spec.dims.end());
  bool shape_ok = tensor.shape.size() == expected.size();
  for (size_t i = 0; shape_ok && i < expected.size(); ++i) {
    if (tensor.shape[i] < 0 || (expected[i] >= 0 && tensor.shape[i] != expected[i])) {
      shape_ok = false;
    }
  }
  if (!shape_ok) {
    return sdk::Internal(what + ": the program returned shape " + ShapeText(tensor.shape) +
                         " but the config expects " + ShapeText(expected) +
                         (batched ? " (batch dimension first)" : ""));
  }
  sdk::Status bytes = CheckTensorBytes(*datatype, tensor.shape, tensor.data);
  if (!bytes.ok()) return sdk::Internal(what + ": " + bytes.message());
  return sdk::Status();
}

sdk::StatusOr<std::vector<const OutputTensor*>> MatchOutputs(
    const ModelSpec& model, const std::vector<bool>& wanted, int64_t batch_size,
    const std::vector<OutputTensor>& outputs, bool partial) {
  std::vector<const OutputTensor*> matched(model.outputs.size(), nullptr);
  std::vector<bool> seen(model.outputs.size(), false);
  for (const OutputTensor& t : outputs) {
    size_t index = model.outputs.size();
    for (size_t i = 0; i < model.outputs.size(); ++i) {
      if (model.outputs[i].name == t.name) {
        index = i;
        break;
      }
    }
    if (index == model.outputs.size()) {
      return sdk::Internal("the program returned output '" + std::string(t.name) +
                           "', which the config does not declare");
    }
    if (seen[index]) {
      return sdk::Internal("the program returned output '" + std::string(t.name) + "' twice");
    }
    seen[index] = true;
    if (!wanted[index]) continue;
    const int64_t batch = partial && !t.shape.empty() ? t.shape[0] : batch_size;
    SY_RETURN_IF_ERROR(CheckOutput(model.outputs[index], model.batched(), batch, t));
    matched[index] = &t;
  }
  for (size_t i = 0; i < model.outputs.size(); ++i) {
    if (wanted[i] && matched[i] == nullptr && !partial) {
      return sdk::Internal("the program did not return the requested output '" +
                           model.outputs[i].name + "'");
    }
  }
  return matched;
}

}  // namespace switchyard::exec
