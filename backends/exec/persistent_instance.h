#pragma once
// mode: persistent. One program per instance, started at SyInstanceInit, speaking the framed
// protocol of frame_protocol.h over its stdin/stdout. A batch that fails at the protocol level
// (the program ended, wrote garbage, or did not answer within timeout_ms) fails as a whole with
// the program's exit status and last stderr lines; the program is killed and started again for
// the next batch. A program that ended between batches (it asked for a restart, as the Python
// runner does after a CUDA out-of-memory error, or it died idle) is started again before the
// next batch is sent, so that batch does not fail on it. Recycling: after recycle_requests
// requests, or once its resident memory passes recycle_rss_mb after a batch, the program is
// ended gracefully once no batch is in flight, and the next batch starts a fresh one.
// Cancellation: a request already cancelled is not sent; a program that announced
// kFeatureCancel gets a CANCEL frame for each request cancelled while it works on the batch.
// Inputs: through a lane of the instance's shared region (shared_inputs.h) to a program that
// announced kFeatureSharedInputs, when they fit; otherwise in the BATCH frame.
//
// Pipelining: a program that announced kFeaturePipelined (it reads its stdin on a thread of its
// own while it computes) takes two batches at once (Concurrency() 2): the host runs two
// Executes, the second's BATCH is written while the program works on the first, so the
// program receives it while its device computes. BATCHes go out in order, RESULTs are read in
// the same order, each by the thread of its batch; a failure of one ends the program and fails
// the other batch in flight too. Other programs take one batch at a time.
//
// Thread-safety: Execute from up to Concurrency() threads at once.

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>

#include "exec/child_process.h"
#include "exec/exec_instance.h"
#include "exec/frame_channel.h"
#include "exec/shared_inputs.h"

namespace switchyard::exec {

class PersistentInstance final : public ExecInstance {
 public:
  PersistentInstance(const ExecContext& context, InstanceSpec instance)
      : context_(context), instance_(std::move(instance)) {}
  // Closes the program's stdin, gives it kShutdownGrace to exit, then kills its process group.
  ~PersistentInstance() override;

  // Starts the program and completes the handshake within startup_timeout_ms.
  sdk::Status Start();
  sdk::Status Execute(HostBatch& batch) override;
  uint32_t Concurrency() const override { return pipelined_ ? SharedInputs::kLanes : 1; }

  static constexpr std::chrono::milliseconds kShutdownGrace{5000};
  // How long to let a program that closed its stdout finish exiting, so that its own exit
  // status (not our SIGKILL) is reported.
  static constexpr std::chrono::milliseconds kExitGrace{2000};

 private:
  // A batch sent to the program: what its thread needs after the lock is let go.
  struct InFlight {
    std::shared_ptr<ChildProcess> child;  // keeps the program's descriptors open
    uint64_t batch_id = 0;
    uint64_t generation = 0;  // of the program it was sent to
  };

  // Starts the program if none runs, once nothing is in flight, and takes the next batch id.
  sdk::StatusOr<InFlight> Admit(std::unique_lock<std::mutex>& lock);
  // The BATCH sent and its RESULT read, in order with the other batch in flight (pipelined) or
  // as one exchange; the PROGRESS and PARTIAL frames before the RESULT go to `interim`.
  ExchangeResult Exchange(const InFlight& sent, const OutgoingFrame& frame,
                          const WatchWhileWaiting& watch, const InterimSink& interim,
                          Deadline deadline);
  // Waits until `counter` reaches the batch's id; false when its program ended meanwhile.
  bool AwaitTurn(std::unique_lock<std::mutex>& lock, const uint64_t& counter, const InFlight& sent);
  // Writes a frame whole, one writer at a time (pipelined: BATCHes and CANCELs of two threads).
  ExchangeResult Write(const InFlight& sent, const OutgoingFrame& frame, Deadline deadline);
  // Ends the program after a failed exchange of `sent` and returns `what` with its exit and
  // stderr tail (the program was already replaced: `what` only).
  sdk::Status EndProgram(std::unique_lock<std::mutex>& lock, const InFlight& sent,
                         const std::string& what, bool wait_for_exit);
  // When the program has ended since the last batch: logs how, and forgets it.
  void ForgetIfEnded();
  // After a batch: marks the program for a graceful end if it is due for recycling.
  void RecycleIfDue();
  // Closes the program's stdin, gives it kShutdownGrace to exit, then kills its process group.
  void StopProgram();
  void Log(SyLogLevel level, const std::string& message) const;

  const ExecContext& context_;
  const InstanceSpec instance_;
  std::mutex mu_;
  std::condition_variable turn_cv_;
  std::shared_ptr<ChildProcess> child_;
  uint64_t generation_ = 0;  // programs started so far
  uint64_t next_batch_id_ = 1;
  uint64_t next_send_ = 1;    // the batch whose BATCH is written next
  uint64_t next_result_ = 1;  // the batch whose RESULT is read next
  int in_flight_ = 0;
  bool retire_ = false;  // end the program once nothing is in flight
  uint64_t requests_since_start_ = 0;
  std::mutex write_mu_;                   // one frame written at a time
  bool takes_parameters_ = false;         // the program's READY announced kFeatureRequestParameters
  bool takes_cancel_ = false;             // ... kFeatureCancel
  bool reads_shared_inputs_ = false;      // ... kFeatureSharedInputs (and shared_ exists)
  bool pipelined_ = false;                // ... kFeaturePipelined (fixed by the first program)
  std::unique_ptr<SharedInputs> shared_;  // shared_memory_mb > 0: created at the first Start
};

}  // namespace switchyard::exec
