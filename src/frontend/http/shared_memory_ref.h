#pragma once
// A tensor's place in a registered shared-memory region (the system shared-memory extension),
// as an infer request names it, and the checks both front ends (KServe JSON over HTTP, gRPC)
// make when they read inputs from one or write outputs into one.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "frontend/http/shared_memory_registry.h"
#include "switchyard/status.h"
#include "switchyard/tensor.h"

namespace switchyard::http {

// What an input's or output's shared-memory parameters name: `span.bytes` are the bytes at
// `offset` in registered region `region`, kept mapped by `span.keeper`.
struct SharedMemoryRef {
  std::string region;
  uint64_t offset = 0;
  SharedMemorySpan span;
};

// FailedPrecondition (Truncated) when one of `regions` was truncated by its owner since it was
// registered; OK otherwise. Call it once the request has been executed, before answering: its
// inputs read zeros there, and its answer must be refused rather than computed from them.
Status CheckInputRegions(const std::vector<SharedMemoryRef>& regions);

// Writes `output` into the region the client named for it. InvalidArgument when it does not fit
// (`field`, e.g. "outputs[0] 'y'", names it); Truncated when the region's object was truncated.
Status CopyToSharedMemory(const Tensor& output, std::string_view field,
                          const SharedMemoryRef& shared);

}  // namespace switchyard::http
