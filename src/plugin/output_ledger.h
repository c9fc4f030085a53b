#pragma once
// The output bookkeeping of a batch that a plugin fills, shared by both BatchAccess
// implementations (InferRequestBatch in process, worker::ShmBatch over shared memory): which
// output of which request was allocated, with what shape and size; the checks AllocateOutput
// makes; and each request's first error. Where an output's bytes live is the implementation's
// (`Memory`). Thread-safety: one thread at a time, like the batch.

#include <cstdint>
#include <span>
#include <vector>

#include "switchyard/model_config.h"
#include "switchyard/status.h"
#include "switchyard/tensor.h"

namespace switchyard::plugin {

// Checks that `byte_size` fits an output of `shape` and `datatype` (exact for fixed-size types;
// at least 4 bytes per element for BYTES, whose elements are checked once written).
Status CheckOutputSize(const TensorSpec& spec, const Shape& shape, uint64_t byte_size);

namespace detail {
// OutputLedger::Allocate's checks, out of line: `allocated` says whether the output (when in
// range) was allocated before.
Status CheckAllocation(const ModelConfig& config, std::size_t request_count, uint32_t request,
                       uint32_t output, bool allocated, const Shape& shape, uint64_t byte_size);
}  // namespace detail

template <typename Memory>
class OutputLedger {
 public:
  struct Output {
    bool allocated = false;
    Shape shape;
    uint64_t size = 0;
    Memory memory{};
  };

  // `config` must outlive the ledger.
  OutputLedger(const ModelConfig* config, std::size_t request_count)
      : config_(config), requests_(request_count) {
    for (Request& request : requests_) request.outputs.resize(config->outputs.size());
  }

  // Records output `output` of `request` as allocated with `shape` and `byte_size`, and returns
  // it for the caller to give it memory. InvalidArgument for an index out of range, a second
  // allocation of the same output, or a size that does not fit (CheckOutputSize).
  StatusOr<Output*> Allocate(uint32_t request, uint32_t output, Shape shape, uint64_t byte_size);

  // Fails one request; its first error wins. Out of range or OK: ignored.
  void SetError(uint32_t request, Status status) {
    if (request >= requests_.size() || status.ok()) return;
    if (requests_[request].error.ok()) requests_[request].error = std::move(status);
  }

  // How `request` ends: its own error, else `batch_status`.
  const Status& Outcome(uint32_t request, const Status& batch_status) const {
    const Status& own = requests_[request].error;
    return own.ok() ? batch_status : own;
  }

  std::size_t request_count() const { return requests_.size(); }
  // Request `request`'s outputs, by config position (allocated or not).
  std::span<Output> outputs(uint32_t request) { return requests_[request].outputs; }
  std::span<const Output> outputs(uint32_t request) const { return requests_[request].outputs; }

 private:
  struct Request {
    std::vector<Output> outputs;
    Status error;
  };

  const ModelConfig* const config_;
  std::vector<Request> requests_;
};

template <typename Memory>
StatusOr<typename OutputLedger<Memory>::Output*> OutputLedger<Memory>::Allocate(
    uint32_t request, uint32_t output, Shape shape, uint64_t byte_size) {
  const bool in_range = request < requests_.size() && output < config_->outputs.size();
  RETURN_IF_ERROR(detail::CheckAllocation(*config_, requests_.size(), request, output,
                                          in_range && requests_[request].outputs[output].allocated,
                                          shape, byte_size));
  Output& out = requests_[request].outputs[output];
  out.allocated = true;
  out.shape = std::move(shape);
  out.size = byte_size;
  return &out;
}

}  // namespace switchyard::plugin
