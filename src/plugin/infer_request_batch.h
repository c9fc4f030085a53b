#pragma once
// A BatchAccess over in-process requests (`isolation: thread`, and warm-up): inputs are read
// where the requests hold them, outputs are allocated as owned tensors.
// Thread-safety: one thread at a time, except Cancelled, Progress, TakesPartials and SendPartial
// (any thread).

#include <span>
#include <vector>

#include "plugin/batch_access.h"
#include "plugin/output_ledger.h"
#include "switchyard/infer.h"
#include "switchyard/model_config.h"

namespace switchyard::plugin {

class InferRequestBatch final : public BatchAccess {
 public:
  // REQUIRES: each request was validated against `config` (every config input present once).
  // `config` and the requests must outlive the batch.
  InferRequestBatch(const ModelConfig* config, std::span<InferRequest* const> requests);

  uint32_t request_count() const override { return static_cast<uint32_t>(requests_.size()); }
  Status Input(uint32_t request, uint32_t input, SyTensor* out) const override;
  bool OutputRequested(uint32_t request, uint32_t output) const override;
  std::span<const std::pair<std::string, std::string>> Parameters(uint32_t request) const override {
    return requests_[request]->parameters;
  }
  StatusOr<void*> AllocateOutput(uint32_t request, uint32_t output, Shape shape,
                                 uint64_t byte_size) override;
  SyCancelState Cancelled(uint32_t request) const override;
  void SetError(uint32_t request, Status status) override;
  // Calls the request's InferRequest::progress, if it has one.
  void Progress(uint32_t request, double fraction, std::string_view message) override;
  ProgressGate& progress_gate() override { return progress_gate_; }
  const ModelConfig& config() const override { return *config_; }
  bool TakesPartials(uint32_t request) const override;
  // Calls the request's InferRequest::partial with copies of the outputs.
  Status SendPartial(uint32_t request, std::span<const SyOutput> outputs) override;

  // The result of each request, in order: its error, else `batch_status` when that is an error,
  // else its outputs (config order, those the plugin allocated). Call once, after Execute.
  std::vector<RequestOutputs> Finish(const Status& batch_status);

 private:
  const ModelConfig* const config_;
  std::span<InferRequest* const> requests_;
  std::vector<std::vector<const Tensor*>> inputs_;  // per request, by config position
  OutputLedger<std::vector<std::byte>> ledger_;     // each output's bytes owned
  ProgressGate progress_gate_;
};

}  // namespace switchyard::plugin
