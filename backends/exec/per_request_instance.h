#pragma once
// mode: per_request. The program runs once per request, one request after another, with the
// request's inputs as files in a private temporary folder (request_files.h) that is removed
// afterwards whatever happened. A run longer than timeout_ms is killed with its process group.
// An error the program reports in response.json is that request's answer, with its code. Every
// other failure (exit status ≠ 0, timeout, missing or malformed outputs) fails only that request,
// with the program's exit status and last stderr lines. A request whose client went away or
// whose timeout passed is not run, or its run is killed within kCancelPoll.

#include <chrono>

#include "exec/exec_instance.h"

namespace switchyard::exec {

class PerRequestInstance final : public ExecInstance {
 public:
  PerRequestInstance(const ExecContext& context, InstanceSpec instance)
      : context_(context), instance_(std::move(instance)) {}

  sdk::Status Execute(HostBatch& batch) override;

  static constexpr std::chrono::milliseconds kCancelPoll{100};

 private:
  // Runs the program for one request; answers it or fails it. A non-OK return (the program
  // cannot be started at all) fails the rest of the batch.
  sdk::Status RunOne(HostBatch& batch, const PendingRequest& request);

  const ExecContext& context_;
  const InstanceSpec instance_;
};

}  // namespace switchyard::exec
