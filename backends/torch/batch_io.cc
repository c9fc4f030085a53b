#include "batch_io.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstring>

#include "dtype_map.h"

namespace switchyard::torch_backend {

namespace {

// Copies below this many bytes in all are done on the calling thread; above, the requests are
// spread over libtorch's intra-op threads (one thread copies a few GB/s from pageable memory,
// while a batch of 128 ResNet-50 inputs in FP16 is 38 MB).
constexpr uint64_t kParallelCopyBytes = uint64_t{1} << 20;
constexpr uint64_t kBytesPerCopyTask = uint64_t{256} << 10;

// Whether every request's tensor of input `i` lies in host memory the device has page-locked.
bool AllRegistered(const BatchGroup& group, const std::vector<RequestInputs>& inputs, size_t i,
                   const DeviceContext& device) {
  return std::all_of(group.requests.begin(), group.requests.end(), [&](uint32_t r) {
    return device.IsRegistered(inputs[r][i].data, inputs[r][i].byte_size);
  });
}

// Input `i` of the group copied from the requests' page-locked buffers straight into a device
// tensor of `shape` on the current stream (DMA, no host staging): one copy per run of buffers
// that lie end to end (a worker's slot holds them so), padding rows zeroed on the device.
torch::Tensor CopyRegisteredRows(const BatchGroup& group, const std::vector<RequestInputs>& inputs,
                                 size_t i, const std::vector<int64_t>& shape, c10::ScalarType type,
                                 const DeviceContext& device) {
  torch::Tensor target =
      torch::empty(shape, c10::TensorOptions().dtype(type).device(device.device()));
  const auto host = c10::TensorOptions().dtype(type).device(c10::kCPU);
  int64_t row = 0;
  for (size_t k = 0; k < group.requests.size();) {
    const SyTensor& first = inputs[group.requests[k]][i];
    uint64_t bytes = first.byte_size;
    int64_t rows = group.rows[k];
    size_t end = k + 1;
    for (; end < group.requests.size(); ++end) {
      const SyTensor& next = inputs[group.requests[end]][i];
      if (static_cast<const char*>(next.data) != static_cast<const char*>(first.data) + bytes) {
        break;
      }
      bytes += next.byte_size;
      rows += group.rows[end];
    }
    std::vector<int64_t> run_shape = shape;
    run_shape[0] = rows;
    if (bytes > 0) {
      torch::Tensor source = torch::from_blob(const_cast<void*>(first.data), run_shape, host);
      target.narrow(0, row, rows).copy_(source, /*non_blocking=*/true);
    }
    row += rows;
    k = end;
  }
  if (row < shape[0]) target.narrow(0, row, shape[0] - row).zero_();
  return target;
}

}  // namespace

std::vector<torch::Tensor> GatherInputs(const TorchModel& model, const BatchGroup& group,
                                        const std::vector<RequestInputs>& inputs,
                                        const DeviceContext& device, int64_t pad_rows) {
  std::vector<torch::Tensor> gathered;
  gathered.reserve(model.inputs().size());
  const uint32_t first = group.requests.front();
  const auto count = static_cast<int64_t>(group.requests.size());
  std::vector<uint64_t> offsets(group.requests.size() + 1);
  for (size_t i = 0; i < model.inputs().size(); ++i) {
    const SyTensor& head = inputs[first][i];
    std::vector<int64_t> shape(head.shape, head.shape + head.dim_count);
    if (model.batched()) shape[0] = std::max(group.total_rows, pad_rows);
    const c10::ScalarType type = *ToScalarType(model.inputs()[i].datatype);
    if (device.is_cuda() && model.batched() && AllRegistered(group, inputs, i, device)) {
      gathered.push_back(CopyRegisteredRows(group, inputs, i, shape, type, device));
      continue;
    }
    torch::Tensor staging = torch::empty(shape, device.HostStagingOptions(type));
    auto* base = static_cast<char*>(staging.data_ptr());
    for (size_t k = 0; k < group.requests.size(); ++k) {
      offsets[k + 1] = offsets[k] + inputs[group.requests[k]][i].byte_size;
    }
    const uint64_t copied = offsets.back();
    auto copy = [&](int64_t begin, int64_t end) {
      for (int64_t k = begin; k < end; ++k) {
        const SyTensor& tensor = inputs[group.requests[static_cast<size_t>(k)]][i];
        if (tensor.byte_size > 0) {
          std::memcpy(base + offsets[static_cast<size_t>(k)], tensor.data, tensor.byte_size);
        }
      }
    };
    if (copied < kParallelCopyBytes || count == 1) {
      copy(0, count);
    } else {
      const auto grain = static_cast<int64_t>(
          std::max<uint64_t>(1, kBytesPerCopyTask / std::max<uint64_t>(1, copied / count)));
      at::parallel_for(0, count, grain, copy);
    }
    const uint64_t total = static_cast<uint64_t>(staging.numel()) * staging.element_size();
    if (copied < total) std::memset(base + copied, 0, total - copied);
    gathered.push_back(device.is_cuda() ? staging.to(device.device(), /*non_blocking=*/true)
                                        : std::move(staging));
  }
  return gathered;
}

void OutputsToHost(const std::vector<torch::Tensor>& outputs, const DeviceContext& device,
                   std::vector<torch::Tensor>* host_outputs) {
  host_outputs->clear();
  bool copied = false;
  for (const torch::Tensor& output : outputs) {
    if (!output.device().is_cuda()) {
      host_outputs->push_back(output);
      continue;
    }
    torch::Tensor& host = host_outputs->emplace_back(
        torch::empty(output.sizes(), device.HostStagingOptions(output.scalar_type())));
    host.copy_(output, /*non_blocking=*/true);
    copied = true;
  }
  if (copied) device.Synchronize();
}

void ScatterOutputs(const SyHostApi& host, SyBatch* batch, const TorchModel& model,
                    const BatchGroup& group, const std::vector<torch::Tensor>& outputs,
                    std::vector<char>* failed) {
  for (size_t o = 0; o < outputs.size(); ++o) {
    // One contiguous copy at most (a no-op for the pinned staging tensors of CUDA outputs),
    // then plain memcpy of each request's rows.
    const torch::Tensor output = outputs[o].contiguous();
    const auto* base = static_cast<const char*>(output.data_ptr());
    const std::vector<int64_t> sizes = output.sizes().vec();
    const uint64_t total_bytes = static_cast<uint64_t>(output.numel()) * output.element_size();
    const uint64_t row_bytes =
        model.batched() && sizes[0] > 0 ? total_bytes / static_cast<uint64_t>(sizes[0]) : 0;
    for (size_t k = 0; k < group.requests.size(); ++k) {
      const uint32_t request = group.requests[k];
      if ((*failed)[request]) continue;
      if (!host.request_output_requested(batch, request, static_cast<uint32_t>(o))) continue;
      std::vector<int64_t> shape = sizes;
      uint64_t offset = 0;
      uint64_t byte_size = total_bytes;
      if (model.batched()) {
        shape[0] = group.rows[k];
        offset = static_cast<uint64_t>(group.row_offsets[k]) * row_bytes;
        byte_size = static_cast<uint64_t>(group.rows[k]) * row_bytes;
      }
      void* data = nullptr;
      SyError* error =
          host.request_output_alloc(batch, request, static_cast<uint32_t>(o), shape.data(),
                                    static_cast<uint32_t>(shape.size()), byte_size, &data);
      if (error != nullptr) {
        host.request_set_error(batch, request, error);
        (*failed)[request] = 1;
        continue;
      }
      if (byte_size > 0) std::memcpy(data, base + offset, byte_size);
    }
  }
}

}  // namespace switchyard::torch_backend
