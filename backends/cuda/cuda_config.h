#pragma once
// The cuda backend's model configuration: its `parameters:` and the identity inputs/outputs,
// checked strictly at SyModelInit. Plain C++ (no CUDA), so it is unit-tested on any machine.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "switchyard/backend.h"

namespace switchyard::cuda_backend {

enum class Workload {
  kSpin,  // a kernel that holds every SM for service_time_us + per_item_us * items
  kGemm,  // one cuBLAS GEMM of gemm_m x gemm_n x gemm_k per batch
};

enum class GemmType { kFp16, kBf16, kFp32 };

// Limits of the parameters (guards against configs that would hang or exhaust a GPU).
inline constexpr double kMaxServiceTimeUs = 60e6;  // 60 s
inline constexpr double kMaxPerItemUs = 1e6;       // 1 s
inline constexpr int64_t kMaxGemmDim = 65536;
inline constexpr int64_t kMaxGemmBytes = int64_t{16} << 30;  // A, B and C together

// The model's `parameters:`. Every key is optional; keys of the other workload are an error.
struct CudaParams {
  // `workload`: spin | gemm. Default spin.
  Workload workload = Workload::kSpin;
  // spin: `service_time_us`, the fixed part of a batch's time, microseconds, a number in
  // [0, 60e6]. Default 1000.
  double service_time_us = 1000;
  // spin: `per_item_us`, microseconds added per batch item, a number in [0, 1e6]. Default 0.
  double per_item_us = 0;
  // gemm: `gemm_m`, `gemm_n`, `gemm_k`, integers in [1, 65536]; the matrices A (m x k),
  // B (k x n) and C (m x n) together at most 16 GiB. Default 4096 each.
  int64_t gemm_m = 4096;
  int64_t gemm_n = 4096;
  int64_t gemm_k = 4096;
  // gemm: `gemm_dtype`, fp16 | bf16 | fp32 (the element type; accumulation is fp32). Default
  // fp16.
  GemmType gemm_dtype = GemmType::kFp16;
  // Either workload: `fault_on_value`, a number. Fault injection for tests of device loss: a
  // batch holding a request whose first input is FP32 and starts with this value launches a
  // kernel that writes to an invalid device address, which leaves the process's CUDA context
  // unusable (cudaErrorIllegalAddress, a sticky error) as a real out-of-bounds write would; the
  // instance then reports SY_ERROR_DEVICE_LOST. Default: none.
  std::optional<float> fault_on_value;

  // spin: how long the kernel holds the GPU for a batch of `items` items, nanoseconds.
  uint64_t SpinNanoseconds(int64_t items) const;
  // gemm: bytes of one element, and of A, B and C together.
  int64_t GemmElementBytes() const;
  int64_t GemmBytes() const;
};

// One input (and its identical output).
struct IoTensor {
  std::string name;
  SyDataType datatype = SY_TYPE_FP32;
  std::vector<int64_t> dims;  // without the batch dimension; -1: variable
};

// What SyModelInit keeps of the model.
struct ModelInfo {
  std::string name;
  int32_t max_batch_size = 0;
  std::vector<IoTensor> inputs;  // output i mirrors input i
  CudaParams params;

  // Bytes the inputs of a full batch take (max(1, max_batch_size) items), or -1 when it is not
  // fixed (a variable dimension or a BYTES tensor).
  int64_t MaxBatchInputBytes() const;
};

// Parses `parameters` into `*params`. Returns "" on success, else the error, e.g.
// "parameter 'workload': expected spin or gemm, got 'sleep'".
std::string ParseCudaParams(const SyParameter* parameters, uint32_t count, CudaParams* params);

// Checks `desc` and fills `*info`: the parameters (ParseCudaParams) and the identity contract
// (as many outputs as inputs, output i with the datatype and dims of input i). Returns "" on
// success, else the error naming the model.
std::string DescribeModel(const SyModelDesc& desc, ModelInfo* info);

}  // namespace switchyard::cuda_backend
