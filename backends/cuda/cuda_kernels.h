#pragma once
// The cuda backend's kernels (cuda_kernels.cu), callable from plain C++.

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace switchyard::cuda_backend {

enum class FillType { kFp32, kFp16, kBf16 };

// Lets the spin kernel take `shared_bytes` of dynamic shared memory per block (above 48 KiB this
// must be allowed explicitly). Call once per device before LaunchSpin.
cudaError_t PrepareSpinKernel(size_t shared_bytes);

// Enqueues on `stream` a kernel of `blocks` blocks, each holding `shared_bytes` of shared memory
// (so that, with one block per SM and the SM's whole shared memory, it holds the GPU alone), that
// runs for `duration_ns` nanoseconds of the GPU's global timer.
cudaError_t LaunchSpin(uint64_t duration_ns, int blocks, size_t shared_bytes, cudaStream_t stream);

// Enqueues on `stream` a fill of `count` elements at `data` with pseudo-random values in
// [-1, 1) derived from `seed` (GEMM operands: zeros would run faster than real data).
cudaError_t LaunchFill(void* data, int64_t count, FillType type, uint32_t seed,
                       cudaStream_t stream);

// Enqueues on `stream` a kernel that writes to an invalid device address (fault injection: the
// process's CUDA context is unusable afterwards).
cudaError_t LaunchIllegalWrite(cudaStream_t stream);

}  // namespace switchyard::cuda_backend
