#pragma once
// Optional CUDA graphs (parameters.cuda_graph_batch_sizes): forward() captured once per batch
// size on the instance's stream, replayed for batches padded with zero rows up to the next
// captured size. Needs a CUDA build of the plugin, a CUDA instance and inputs without variable
// dimensions; on a CPU instance or a CPU build the parameter is logged as unused.
// Thread-safety: the instance's thread only.

#include <torch/script.h>

#include <memory>
#include <vector>

#include "device_context.h"
#include "forward_binding.h"
#include "switchyard/backend_sdk/status.h"
#include "torch_model.h"

namespace switchyard::torch_backend {

class CudaGraphs {
 public:
  ~CudaGraphs();

  // Captures one graph per size, largest first, sharing one memory pool (graphs are replayed
  // one at a time and their outputs consumed before the next replay, so they may share it).
  // Each size is run three times before capture (the TorchScript executor profiles and
  // optimises on its first runs). Returns null (after logging why) when graphs cannot be used
  // here; fails with SY_ERROR_UNSUPPORTED for variable input dimensions and SY_ERROR_INTERNAL
  // when capture fails (e.g. the model synchronises with the host).
  // REQUIRES: the device's stream is current and grad mode is off.
  static sdk::StatusOr<std::unique_ptr<CudaGraphs>> Capture(const TorchModel& model,
                                                            const DeviceContext& device,
                                                            torch::jit::Module& module,
                                                            const ForwardBinding& binding);

  // The smallest captured batch size >= rows, or 0 when none holds `rows`.
  int64_t PaddedRows(int64_t rows) const;

  // Copies `inputs` (device tensors of `rows` rows, config order) into the graph's static inputs,
  // replays it and returns its static outputs (config order), valid until the next Replay.
  // REQUIRES: rows is a captured size (PaddedRows returned it).
  sdk::StatusOr<std::vector<torch::Tensor>> Replay(int64_t rows,
                                                   const std::vector<torch::Tensor>& inputs);

 private:
  struct Graph;
  CudaGraphs();

  std::vector<int64_t> sizes_;  // ascending, parallel to graphs_
  std::vector<std::unique_ptr<Graph>> graphs_;
};

}  // namespace switchyard::torch_backend
