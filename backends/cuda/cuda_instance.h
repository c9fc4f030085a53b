#pragma once
// One instance of a cuda-backend model: its CUDA stream, buffers and (for gemm) cuBLAS handle
// and matrices on CUDA device 0 (the instance's own GPU), and the execution of a batch.
// Not thread-safe: the host calls an instance from one thread at a time (backend.h).

#include <cuda_runtime.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cuda_config.h"
#include "switchyard/backend.h"

// cublasHandle_t without cublas_v2.h in this header.
struct cublasContext;

namespace switchyard::cuda_backend {

class CudaInstance {
 public:
  // Creates the instance on CUDA device 0. Returns null and stores an error in `*error` (owned
  // by the caller) on failure. `host` and `model` must outlive the instance.
  static std::unique_ptr<CudaInstance> Create(const SyHostApi* host, const ModelInfo* model,
                                              const SyInstanceDesc& desc, SyError** error);
  ~CudaInstance();
  CudaInstance(const CudaInstance&) = delete;
  CudaInstance& operator=(const CudaInstance&) = delete;

  // Copies every request's inputs to the GPU, runs the workload, copies them back and writes
  // them as the outputs (output i = input i). Null on success.
  SyError* Execute(SyBatch* batch);

  // Device memory this instance allocated itself, bytes (I/O buffer, GEMM matrices, cuBLAS
  // workspace); the CUDA context and cuBLAS's own handle state are not counted.
  uint64_t DeviceBytes() const { return device_bytes_; }

 private:
  CudaInstance(const SyHostApi* host, const ModelInfo* model, std::string name)
      : host_(host), model_(model), name_(std::move(name)) {}

  SyError* Init();
  // Makes the I/O buffers (pinned host and device) hold at least `bytes`.
  SyError* Reserve(uint64_t bytes);
  SyError* RunWorkload(int64_t items);
  // An error of `code` naming the instance and, when `status` is not cudaSuccess, CUDA's text.
  SyError* Error(SyErrorCode code, const std::string& what, cudaError_t status = cudaSuccess);
  // Null for cudaSuccess; else an error naming `what`: SY_ERROR_DEVICE_LOST when the CUDA
  // context is unusable since (DeviceLost), SY_ERROR_INTERNAL otherwise.
  SyError* Check(cudaError_t status, const char* what) {
    if (status == cudaSuccess) return nullptr;
    return Error(DeviceLost() ? SY_ERROR_DEVICE_LOST : SY_ERROR_INTERNAL, what, status);
  }
  // After a failure: whether the error is sticky (every later call fails), which a second
  // device-wide synchronisation shows (the first reports, and clears, one that is not).
  static bool DeviceLost();
  // Whether a request's inputs ask for the injected fault (CudaParams::fault_on_value).
  bool InjectsFault(const SyTensor& first_input) const;

  const SyHostApi* const host_;
  const ModelInfo* const model_;
  const std::string name_;

  int sm_count_ = 0;
  size_t spin_shared_bytes_ = 0;
  cudaStream_t stream_ = nullptr;
  cublasContext* cublas_ = nullptr;
  void* gemm_a_ = nullptr;
  void* gemm_b_ = nullptr;
  void* gemm_c_ = nullptr;
  void* cublas_workspace_ = nullptr;
  uint64_t cublas_workspace_bytes_ = 0;
  // I/O staging: the batch's inputs, back to back.
  void* host_buffer_ = nullptr;    // pinned
  void* device_buffer_ = nullptr;  // on the GPU
  uint64_t buffer_bytes_ = 0;
  uint64_t device_bytes_ = 0;
};

}  // namespace switchyard::cuda_backend
