#pragma once
// The host's side of a batch as a plugin sees it (SyBatch in include/switchyard/backend.h):
// inputs to read, outputs to allocate, per-request errors. Implemented over in-process requests
// (InferRequestBatch) and over a worker's shared-memory slot.
// Thread-safety: used by one thread at a time (the one running the plugin's Execute), except
// Cancelled, Progress, TakesPartials and SendPartial.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "plugin/progress_gate.h"
#include "switchyard/backend.h"
#include "switchyard/infer.h"
#include "switchyard/model_config.h"
#include "switchyard/status.h"
#include "switchyard/tensor.h"

namespace switchyard::plugin {

// What a request's token says (null: SY_NOT_CANCELLED); a client that went away wins over a
// passed deadline (no answer is sent at all).
inline SyCancelState CancelStateOf(const CancelToken* token) {
  if (token == nullptr) return SY_NOT_CANCELLED;
  if (token->cancelled()) return SY_CANCELLED_CLIENT_GONE;
  return token->expired() ? SY_CANCELLED_DEADLINE : SY_NOT_CANCELLED;
}

// The longest progress message passed on (a longer one is cut at a character boundary).
inline constexpr std::size_t kMaxProgressMessageBytes = 1024;

class BatchAccess {
 public:
  virtual ~BatchAccess() = default;

  virtual uint32_t request_count() const = 0;
  // Fills `out` with request `request`'s input at config position `input`; the pointers stay
  // valid while the batch lives. InvalidArgument for an index out of range.
  virtual Status Input(uint32_t request, uint32_t input, SyTensor* out) const = 0;
  virtual bool OutputRequested(uint32_t request, uint32_t output) const = 0;
  // The client's parameters of `request` (InferRequest::parameters), valid while the batch
  // lives. REQUIRES: request < request_count().
  virtual std::span<const std::pair<std::string, std::string>> Parameters(
      uint32_t request) const = 0;
  // Memory for output `output` of `request`, `byte_size` bytes, valid while the batch lives.
  // InvalidArgument for a bad index, a second allocation of the same output, or a byte size
  // that does not fit the shape and datatype; Internal when memory runs out.
  virtual StatusOr<void*> AllocateOutput(uint32_t request, uint32_t output, Shape shape,
                                         uint64_t byte_size) = 0;
  // SyCancelState of `request`: whether its client went away or its timeout passed. Any
  // thread; SY_NOT_CANCELLED for an index out of range.
  virtual SyCancelState Cancelled(uint32_t request) const = 0;
  // Fails one request (the first error of a request wins).
  virtual void SetError(uint32_t request, Status status) = 0;
  // Passes `request`'s progress to whoever follows it. Any thread. REQUIRES: 0 <= fraction <= 1,
  // the report was admitted by the batch's ProgressGate, and `message` has at most
  // kMaxProgressMessageBytes (host_api.cc sees to all three).
  virtual void Progress(uint32_t request, double fraction, std::string_view message) = 0;
  // The gate that thins out this batch's progress reports.
  virtual ProgressGate& progress_gate() = 0;

  // The config of the model the batch belongs to.
  virtual const ModelConfig& config() const = 0;
  // Whether anyone takes `request`'s partial responses (InferRequest::partial); without one,
  // the host drops them uncopied. Any thread; false for an index out of range.
  virtual bool TakesPartials(uint32_t request) const = 0;
  // Passes one partial response of `request` on, in the order of the calls. Any thread.
  // REQUIRES: TakesPartials(request); CheckPartialOutputs(config(), outputs) is OK; every output
  // was requested. Errors: Internal when it could not be passed on.
  virtual Status SendPartial(uint32_t request, std::span<const SyOutput> outputs) = 0;
};

}  // namespace switchyard::plugin
