#include "forward_binding.h"

#include <set>

#include "dtype_map.h"

namespace switchyard::torch_backend {
namespace {

std::string ArgumentsText(const std::vector<c10::Argument>& arguments) {
  std::string text;
  for (const c10::Argument& argument : arguments) {
    if (!text.empty()) text += ", ";
    text += argument.name();
  }
  return "forward(" + text + ")";
}

sdk::StatusOr<torch::Tensor> CheckedTensor(const c10::IValue& value, const TensorSpec& spec) {
  if (!value.isTensor()) {
    return sdk::Internal("output '" + spec.name + "': the model returned a " + value.tagKind() +
                         " where a tensor was expected");
  }
  torch::Tensor tensor = value.toTensor();
  const auto datatype = FromScalarType(tensor.scalar_type());
  if (!datatype.has_value() || *datatype != spec.datatype) {
    return sdk::Internal("output '" + spec.name + "': the model returned " +
                         std::string(c10::toString(tensor.scalar_type())) +
                         " where the config declares " + DataTypeName(spec.datatype));
  }
  return tensor;
}

sdk::StatusOr<std::vector<torch::Tensor>> FromSequence(const std::vector<c10::IValue>& elements,
                                                       const std::vector<TensorSpec>& outputs,
                                                       const char* kind) {
  if (elements.size() < outputs.size()) {
    return sdk::Internal("output '" + outputs[elements.size()].name + "': the model returned a " +
                         kind + " of " + std::to_string(elements.size()) +
                         " elements and the config declares " + std::to_string(outputs.size()) +
                         " outputs");
  }
  std::vector<torch::Tensor> tensors;
  for (size_t i = 0; i < outputs.size(); ++i) {
    auto tensor = CheckedTensor(elements[i], outputs[i]);
    if (!tensor.ok()) return tensor.status();
    tensors.push_back(std::move(tensor).value());
  }
  return tensors;
}

}  // namespace

sdk::StatusOr<ForwardBinding> ForwardBinding::Create(const torch::jit::Module& module,
                                                     const std::vector<TensorSpec>& inputs,
                                                     InputBinding binding) {
  const auto method = module.find_method("forward");
  if (!method.has_value()) {
    return sdk::InvalidArgument("the TorchScript module has no forward() method");
  }
  std::vector<c10::Argument> arguments = method->function().getSchema().arguments();
  if (!arguments.empty() && arguments.front().name() == "self") arguments.erase(arguments.begin());

  std::vector<std::string> names;
  for (const TensorSpec& spec : inputs) names.push_back(spec.name);

  if (binding == InputBinding::kPosition) {
    if (arguments.size() < inputs.size()) {
      return sdk::InvalidArgument("the config declares " + std::to_string(inputs.size()) +
                                  " inputs but " + ArgumentsText(arguments) + " takes " +
                                  std::to_string(arguments.size()) +
                                  " arguments (input_binding: position)");
    }
    for (size_t i = inputs.size(); i < arguments.size(); ++i) {
      if (!arguments[i].default_value().has_value()) {
        return sdk::InvalidArgument("argument '" + arguments[i].name() + "' of " +
                                    ArgumentsText(arguments) +
                                    " has no default and no config input (input_binding: "
                                    "position)");
      }
    }
  } else {
    std::set<std::string> argument_names;
    for (const c10::Argument& argument : arguments) argument_names.insert(argument.name());
    for (const std::string& name : names) {
      if (argument_names.count(name) == 0) {
        return sdk::InvalidArgument("input '" + name + "' names no argument of " +
                                    ArgumentsText(arguments) + " (input_binding: name)");
      }
    }
    const std::set<std::string> input_names(names.begin(), names.end());
    for (const c10::Argument& argument : arguments) {
      if (input_names.count(argument.name()) == 0 && !argument.default_value().has_value()) {
        return sdk::InvalidArgument("argument '" + argument.name() + "' of " +
                                    ArgumentsText(arguments) +
                                    " has no default and no config input of that name "
                                    "(input_binding: name)");
      }
    }
  }
  return ForwardBinding(binding, std::move(names));
}

c10::IValue ForwardBinding::Call(torch::jit::Module& module,
                                 std::vector<torch::Tensor> inputs) const {
  torch::jit::Method forward = module.get_method("forward");
  if (binding_ == InputBinding::kPosition) {
    std::vector<c10::IValue> stack(std::make_move_iterator(inputs.begin()),
                                   std::make_move_iterator(inputs.end()));
    return forward(std::move(stack));
  }
  torch::jit::Kwargs kwargs;
  for (size_t i = 0; i < inputs.size(); ++i) kwargs.emplace(names_[i], std::move(inputs[i]));
  return forward(std::vector<c10::IValue>(), kwargs);
}

sdk::StatusOr<std::vector<torch::Tensor>> ExtractOutputs(const c10::IValue& result,
                                                         const std::vector<TensorSpec>& outputs) {
  if (result.isTensor()) {
    if (outputs.size() != 1) {
      return sdk::Internal("output '" + outputs[1].name +
                           "': the model returned one tensor and the config declares " +
                           std::to_string(outputs.size()) + " outputs");
    }
    return FromSequence({result}, outputs, "tensor");
  }
  if (result.isTuple()) {
    return FromSequence(result.toTupleRef().elements().vec(), outputs, "tuple");
  }
  if (result.isList()) return FromSequence(result.toListRef().vec(), outputs, "list");
  if (result.isGenericDict()) {
    const c10::Dict<c10::IValue, c10::IValue> dict = result.toGenericDict();
    std::vector<torch::Tensor> tensors;
    for (const TensorSpec& spec : outputs) {
      auto it = dict.find(c10::IValue(spec.name));
      if (it == dict.end()) {
        return sdk::Internal("output '" + spec.name +
                             "': the model returned a dict without that key");
      }
      auto tensor = CheckedTensor(it->value(), spec);
      if (!tensor.ok()) return tensor.status();
      tensors.push_back(std::move(tensor).value());
    }
    return tensors;
  }
  return sdk::Internal(std::string("the model returned a ") + result.tagKind() +
                       " (expected a tensor, a tuple or list of tensors, or a dict of "
                       "str to tensor)");
}

std::string TorchErrorMessage(const std::exception& error) {
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&error)) {
    return c10_error->what_without_backtrace();
  }
  return error.what();
}

}  // namespace switchyard::torch_backend
