#include "cuda_graphs.h"

#include <algorithm>

#include "batch_plan.h"
#include "dtype_map.h"

#if SWITCHYARD_TORCH_CUDA
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#include <torch/version.h>
#endif

namespace switchyard::torch_backend {

struct CudaGraphs::Graph {
  std::vector<torch::Tensor> inputs;
  std::vector<torch::Tensor> outputs;
#if SWITCHYARD_TORCH_CUDA
  at::cuda::CUDAGraph graph;
#endif
};

CudaGraphs::CudaGraphs() = default;
CudaGraphs::~CudaGraphs() = default;

int64_t CudaGraphs::PaddedRows(int64_t rows) const { return PaddedBatchSize(sizes_, rows); }

#if SWITCHYARD_TORCH_CUDA

namespace {

// Ends a capture that an exception interrupted, so the stream is usable again.
void AbortCapture() {
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream().stream();
  cudaStreamCaptureStatus capturing = cudaStreamCaptureStatusNone;
  if (cudaStreamIsCapturing(stream, &capturing) == cudaSuccess &&
      capturing != cudaStreamCaptureStatusNone) {
    cudaGraph_t graph = nullptr;
    if (cudaStreamEndCapture(stream, &graph) == cudaSuccess && graph != nullptr) {
      cudaGraphDestroy(graph);
    }
  }
  cudaGetLastError();  // clear the capture error
}

}  // namespace

sdk::StatusOr<std::unique_ptr<CudaGraphs>> CudaGraphs::Capture(const TorchModel& model,
                                                               const DeviceContext& device,
                                                               torch::jit::Module& module,
                                                               const ForwardBinding& binding) {
  const std::vector<int64_t>& sizes = model.parameters().cuda_graph_batch_sizes;
  if (!device.is_cuda()) {
    model.Log(SY_LOG_INFO, "parameters.cuda_graph_batch_sizes is not used on a CPU instance");
    return std::unique_ptr<CudaGraphs>();
  }
  for (const TensorSpec& spec : model.inputs()) {
    if (std::find(spec.dims.begin(), spec.dims.end(), -1) != spec.dims.end()) {
      return sdk::Unsupported("parameters.cuda_graph_batch_sizes: input '" + spec.name +
                              "' has a variable dimension; CUDA graphs need fixed shapes");
    }
  }
  std::unique_ptr<CudaGraphs> graphs(new CudaGraphs());
  const at::cuda::MempoolId_t pool = at::cuda::graph_pool_handle();
  for (auto it = sizes.rbegin(); it != sizes.rend(); ++it) {
    const int64_t rows = *it;
    auto graph = std::make_unique<Graph>();
    for (const TensorSpec& spec : model.inputs()) {
      std::vector<int64_t> shape = spec.dims;
      shape.insert(shape.begin(), rows);
      graph->inputs.push_back(torch::zeros(
          shape,
          torch::TensorOptions().dtype(*ToScalarType(spec.datatype)).device(device.device())));
    }
    for (int run = 0; run < 3; ++run) binding.Call(module, graph->inputs);
    device.Synchronize();
    c10::IValue result;
    try {
#if TORCH_VERSION_MAJOR >= 2
      // Thread-local capture: instances on other threads of the process keep working.
      graph->graph.capture_begin(pool, cudaStreamCaptureModeThreadLocal);
#else
      graph->graph.capture_begin(pool);
#endif
      result = binding.Call(module, graph->inputs);
      graph->graph.capture_end();
    } catch (const std::exception& e) {
      AbortCapture();
      return sdk::Internal("parameters.cuda_graph_batch_sizes: capturing batch size " +
                           std::to_string(rows) + " failed: " + TorchErrorMessage(e));
    }
    auto outputs = ExtractOutputs(result, model.outputs());
    if (!outputs.ok()) return outputs.status();
    graph->outputs = std::move(outputs).value();
    for (size_t o = 0; o < graph->outputs.size(); ++o) {
      SY_RETURN_IF_ERROR(ValidateModelOutput(model.outputs()[o], graph->outputs[o].sizes().vec(),
                                             /*batched=*/true, rows));
    }
    graphs->sizes_.insert(graphs->sizes_.begin(), rows);
    graphs->graphs_.insert(graphs->graphs_.begin(), std::move(graph));
  }
  device.Synchronize();
  model.Log(SY_LOG_INFO, "captured CUDA graphs for " + std::to_string(sizes.size()) +
                             " batch size(s), largest " + std::to_string(sizes.back()));
  return graphs;
}

sdk::StatusOr<std::vector<torch::Tensor>> CudaGraphs::Replay(
    int64_t rows, const std::vector<torch::Tensor>& inputs) {
  const auto it = std::find(sizes_.begin(), sizes_.end(), rows);
  if (it == sizes_.end()) {
    return sdk::Internal("no CUDA graph for batch size " + std::to_string(rows));
  }
  Graph& graph = *graphs_[static_cast<size_t>(it - sizes_.begin())];
  for (size_t i = 0; i < inputs.size(); ++i)
    graph.inputs[i].copy_(inputs[i], /*non_blocking=*/true);
  graph.graph.replay();
  return graph.outputs;
}

#else  // !SWITCHYARD_TORCH_CUDA

sdk::StatusOr<std::unique_ptr<CudaGraphs>> CudaGraphs::Capture(const TorchModel& model,
                                                               const DeviceContext& /*device*/,
                                                               torch::jit::Module& /*module*/,
                                                               const ForwardBinding& /*binding*/) {
  model.Log(SY_LOG_WARN,
            "parameters.cuda_graph_batch_sizes is not supported by this build of the torch "
            "plugin (libtorch without CUDA); batches run without CUDA graphs");
  return std::unique_ptr<CudaGraphs>();
}

sdk::StatusOr<std::vector<torch::Tensor>> CudaGraphs::Replay(
    int64_t rows, const std::vector<torch::Tensor>& /*inputs*/) {
  return sdk::Internal("no CUDA graph for batch size " + std::to_string(rows) + " (CPU build)");
}

#endif

}  // namespace switchyard::torch_backend
