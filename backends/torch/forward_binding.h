#pragma once
// How the config's inputs and outputs meet the module's forward(): inputs by position or by
// argument name (parameters.input_binding), outputs from what forward() returns.

#include <torch/script.h>

#include <string>
#include <vector>

#include "parameters.h"
#include "switchyard/backend_sdk/status.h"
#include "tensor_spec.h"

namespace switchyard::torch_backend {

// Calls a module's forward() with the config's inputs. Thread-safety: const after Create.
class ForwardBinding {
 public:
  // Checks `module`'s forward() schema against `inputs` (config order):
  //   kPosition: forward takes at least as many arguments (after `self`) as there are inputs,
  //     and the arguments beyond them have defaults;
  //   kName: every input names an argument, and every argument not named has a default.
  // SY_ERROR_INVALID_ARGUMENT naming the mismatch and forward()'s arguments.
  static sdk::StatusOr<ForwardBinding> Create(const torch::jit::Module& module,
                                              const std::vector<TensorSpec>& inputs,
                                              InputBinding binding);

  // forward(inputs...), `inputs` in config order. Throws what forward() throws.
  c10::IValue Call(torch::jit::Module& module, std::vector<torch::Tensor> inputs) const;

 private:
  ForwardBinding(InputBinding binding, std::vector<std::string> names)
      : binding_(binding), names_(std::move(names)) {}

  InputBinding binding_;
  std::vector<std::string> names_;  // the config's input names (for kName)
};

// The config's outputs, in config order, from forward()'s `result`: a tensor (one output), a
// tuple or list of tensors (matched by position; extra elements are ignored), or a dict from
// string to tensor (matched by name). Checks each tensor's dtype against the config.
// SY_ERROR_INTERNAL naming the output that is missing or does not fit.
sdk::StatusOr<std::vector<torch::Tensor>> ExtractOutputs(const c10::IValue& result,
                                                         const std::vector<TensorSpec>& outputs);

// The concise message of a libtorch exception (without its C++ backtrace).
std::string TorchErrorMessage(const std::exception& error);

}  // namespace switchyard::torch_backend
