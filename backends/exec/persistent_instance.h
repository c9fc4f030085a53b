#pragma once
// mode: persistent. One program per instance, started at SyInstanceInit, speaking the framed
// protocol of frame_protocol.h over its stdin/stdout. A batch that fails at the protocol level
// (the program ended, wrote garbage, or did not answer within timeout_ms) fails as a whole with
// the program's exit status and last stderr lines; the program is killed and started again for
// the next batch. A program that ended between batches (it asked for a restart, as the Python
// runner does after a CUDA out-of-memory error, or it died idle) is started again before the
// next batch is sent, so that batch does not fail on it. Recycling: after recycle_requests
// requests, or once its resident memory passes recycle_rss_mb after a batch, the program is
// ended gracefully and the next batch starts a fresh one. Cancellation: a request already
// cancelled is not sent; a program that announced kFeatureCancel gets a CANCEL frame for each
// request cancelled while it works on the batch. Inputs: through the instance's shared region
// (shared_inputs.h) to a program that announced kFeatureSharedInputs, when they fit; otherwise
// in the BATCH frame.

#include <cstdint>
#include <memory>

#include "exec/child_process.h"
#include "exec/exec_instance.h"
#include "exec/shared_inputs.h"

namespace switchyard::exec {

class PersistentInstance final : public ExecInstance {
 public:
  PersistentInstance(const ExecContext& context, InstanceSpec instance)
      : context_(context), instance_(std::move(instance)) {}
  // Closes the program's stdin, gives it kShutdownGrace to exit, then kills its process group.
  ~PersistentInstance() override;

  // Starts the program and completes the handshake within startup_timeout_ms.
  Status Start();
  Status Execute(HostBatch& batch) override;

  static constexpr std::chrono::milliseconds kShutdownGrace{5000};
  // How long to let a program that closed its stdout finish exiting, so that its own exit
  // status (not our SIGKILL) is reported.
  static constexpr std::chrono::milliseconds kExitGrace{2000};

 private:
  // Ends the program after a failed exchange and returns `what` with its exit and stderr tail.
  Status EndProgram(const std::string& what, bool wait_for_exit);
  // When the program has ended since the last batch: logs how, and forgets it.
  void ForgetIfEnded();
  // After a batch: ends the program gracefully if it is due for recycling.
  void RecycleIfDue();
  // Closes the program's stdin, gives it kShutdownGrace to exit, then kills its process group.
  void StopProgram();
  void Log(SyLogLevel level, const std::string& message) const;

  const ExecContext& context_;
  const InstanceSpec instance_;
  std::unique_ptr<ChildProcess> child_;
  uint64_t next_batch_id_ = 1;
  uint64_t requests_since_start_ = 0;
  bool takes_parameters_ = false;         // the program's READY announced kFeatureRequestParameters
  bool takes_cancel_ = false;             // ... and kFeatureCancel
  bool reads_shared_inputs_ = false;      // ... and kFeatureSharedInputs (and shared_ exists)
  std::unique_ptr<SharedInputs> shared_;  // shared_memory_mb > 0: created at the first Start
};

}  // namespace switchyard::exec
