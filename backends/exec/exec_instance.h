#pragma once
// An instance of an exec model, as SyInstanceInit creates it: PersistentInstance or
// PerRequestInstance, chosen by the `mode` parameter. Execute is called by up to Concurrency()
// threads at once (SyInstanceConcurrency).

#include <memory>

#include "exec/child_process.h"
#include "exec/exec_context.h"
#include "exec/host_batch.h"
#include "switchyard/backend_sdk/status.h"

namespace switchyard::exec {

class ExecInstance {
 public:
  virtual ~ExecInstance() = default;
  // Runs one batch: answers each request (outputs or a per-request error), or returns an error
  // that fails every request not yet answered.
  virtual sdk::Status Execute(HostBatch& batch) = 0;
  // How many Executes may run at once (fixed after creation).
  virtual uint32_t Concurrency() const { return 1; }
};

// Creates the instance; in persistent mode this starts the program and completes the handshake.
// REQUIRES: `context` outlives the instance.
sdk::StatusOr<std::unique_ptr<ExecInstance>> CreateExecInstance(const ExecContext& context,
                                                                const InstanceSpec& instance);

// "<what>; the program exited with status 1; its last stderr lines:\n  ...": a failure
// message with how the program ended and what it last wrote to stderr.
std::string DescribeProgramEnd(const std::string& what, const ExitStatus& exit, bool killed,
                               const std::string& stderr_tail);

}  // namespace switchyard::exec
