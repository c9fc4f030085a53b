#pragma once
// The torch backend's `parameters:` (config.yaml), parsed and validated. Pure: no torch.
// docs/torch-backend.md is the user's reference; keep the two in step.

#include <cstdint>
#include <string>
#include <vector>

#include "switchyard/backend.h"
#include "switchyard/backend_sdk/status.h"

namespace switchyard::torch_backend {

// How the config's inputs map onto the arguments of the module's forward().
enum class InputBinding {
  kPosition,  // the config's input order is forward()'s argument order (after `self`)
  kName,      // each config input is passed as the forward() argument of the same name
};

// Which TorchScript graph executor runs forward(). libtorch keeps the choice per process.
enum class JitExecutor {
  kProfiling,  // libtorch's default: profiles the first calls, then optimises for the shapes seen
  kSimple,     // no profiling and no shape specialisation: every batch size takes the same path
  kLegacy,     // the pre-profiling executor: one optimised graph per input shape signature
};

struct TorchParameters {
  // The TorchScript file, relative to the version folder (or absolute). Default "model.pt".
  std::string model_file = "model.pt";
  // Default kPosition.
  InputBinding input_binding = InputBinding::kPosition;
  // true: run forward() under c10::InferenceMode; false: under torch::NoGradGuard (for models
  // that do not run under inference mode). Default true.
  bool inference_mode = true;
  // Intra-op threads of libtorch's CPU thread pool; 0 keeps libtorch's default. libtorch's pool
  // is per process, so with `isolation: thread` the last instance loaded sets it for all.
  // Default 0.
  int intra_op_threads = 0;
  // true: cuDNN times its algorithms for each new input shape and keeps the fastest (the first
  // batch of each size pays for the search; with cuda_graph_batch_sizes that happens during
  // capture at load). A per-process setting, like intra_op_threads. Default false.
  bool cudnn_benchmark = false;
  // The graph executor. Default kProfiling.
  JitExecutor jit_executor = JitExecutor::kProfiling;
  // Batch sizes to capture CUDA graphs for, ascending and distinct, each 1..max_batch_size.
  // Default none. Only CUDA builds of the plugin use them (see docs/torch-backend.md).
  std::vector<int64_t> cuda_graph_batch_sizes;
};

// The keys ParseTorchParameters accepts, in the order the error message lists them.
const std::vector<std::string>& KnownParameterKeys();

// Parses `parameters` (as SyModelDesc passes them). Unknown keys, duplicates and invalid values
// are SY_ERROR_INVALID_ARGUMENT errors naming the key; an unknown key's error lists the known
// ones. `max_batch_size` bounds cuda_graph_batch_sizes (which requires max_batch_size > 0).
sdk::StatusOr<TorchParameters> ParseTorchParameters(const SyParameter* parameters, uint32_t count,
                                                    int32_t max_batch_size);

// "1,8,32" -> {1, 8, 32}: positive decimal integers separated by commas (spaces allowed around
// them), sorted and without duplicates on return. An empty or all-space text is no sizes.
sdk::StatusOr<std::vector<int64_t>> ParseBatchSizeList(const std::string& text);

}  // namespace switchyard::torch_backend
