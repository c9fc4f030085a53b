#pragma once
// An instance is one copy of a model that executes batches: in process (a backend object on a
// thread of ours) or, later, in a worker process over IPC. The scheduler owns the requests of a
// batch until the instance calls back; the instance only reads them.

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "switchyard/infer.h"
#include "switchyard/status.h"
#include "switchyard/tensor.h"

namespace switchyard {

// The outputs an instance produced for one request of a batch, or why that request failed.
using RequestOutputs = StatusOr<std::vector<Tensor>>;
// One entry per request, in the order of the batch.
using BatchDone = std::function<void(std::vector<RequestOutputs>)>;

// Thread-safety: Execute may be called from any thread, concurrently up to the instance's
// max_inflight_batches; `done` is called exactly once per Execute, from any thread.
class Instance {
 public:
  virtual ~Instance() = default;

  // A name unique within the model, e.g. "simple/0".
  virtual const std::string& name() const = 0;

  // Starts executing `requests` (each validated against the model config). The pointed-to
  // requests stay alive and unmodified until `done` has been called.
  virtual void Execute(std::span<InferRequest* const> requests, BatchDone done) = 0;
};

}  // namespace switchyard
