#pragma once
// One batch as the host hands it to SyInstanceExecute: reading a request's inputs, and answering
// it with outputs (allocated through the host and filled from what the program returned) or an
// error. Valid only during that SyInstanceExecute call, on its thread (Cancelled: any thread).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "exec/frame_protocol.h"
#include "exec/model_spec.h"
#include "switchyard/backend.h"
#include "switchyard/backend_sdk/status.h"

namespace switchyard::exec {

// A request of the batch, ready to send: its inputs (borrowed from the host), which outputs were
// asked for, its batch dimension.
struct PendingRequest {
  uint32_t index = 0;  // in the host's batch
  RequestView view;
  std::vector<bool> wanted;  // per config output
  int64_t batch_size = 1;    // the first dimension of its inputs when the model batches
};

class HostBatch {
 public:
  HostBatch(const SyHostApi* host, SyBatch* batch) : host_(host), batch_(batch) {}

  uint32_t request_count() const { return host_->batch_request_count(batch_); }
  // Reads request `r`. False when the host could not provide an input: the request has then
  // been failed with the host's error and must be left out.
  bool Read(const ModelSpec& model, uint32_t r, PendingRequest* out);
  // Answers `request` from `result`: checks the outputs (MatchOutputs), allocates and fills
  // them; any problem fails only this request.
  void Answer(const ModelSpec& model, const PendingRequest& request, const RequestResult& result);
  // Answers `request` from checked outputs (MatchOutputs' result).
  void AnswerOutputs(const PendingRequest& request,
                     const std::vector<const OutputTensor*>& outputs);
  void Fail(uint32_t r, const sdk::Status& status);
  // Whether request `r` is still wanted (SyHostApi::request_cancelled). Any thread.
  SyCancelState Cancelled(uint32_t r) const;
  // Passes on the program's progress report for request `r` (SyHostApi::request_progress; a
  // host without it drops it). Any thread.
  void Progress(uint32_t r, double fraction, std::string_view message) const;
  // Passes on the program's partial response for `request` (SyHostApi::request_send_partial; a
  // host without it drops it): checks the outputs (MatchOutputs, partial), and fails the
  // request when they or the host refuse them. Any thread.
  void SendPartial(const ModelSpec& model, const PendingRequest& request,
                   const std::vector<OutputTensor>& outputs);
  // Fails request `r`, cancelled as `state` says, naming `when` ("before it was sent to the
  // program").
  void FailCancelled(uint32_t r, SyCancelState state, const std::string& when);

 private:
  const SyHostApi* host_;
  SyBatch* batch_;
};

}  // namespace switchyard::exec
