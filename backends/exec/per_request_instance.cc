#include "exec/per_request_instance.h"

#include <algorithm>

#include "exec/child_process.h"
#include "exec/output_check.h"
#include "exec/request_files.h"

namespace switchyard::exec {

sdk::Status PerRequestInstance::Execute(HostBatch& batch) {
  uint32_t count = batch.request_count();
  for (uint32_t r = 0; r < count; ++r) {
    if (SyCancelState state = batch.Cancelled(r); state != SY_NOT_CANCELLED) {
      batch.FailCancelled(r, state, "before its run started");
      continue;
    }
    PendingRequest p;
    if (!batch.Read(context_.model, r, &p)) continue;
    SY_RETURN_IF_ERROR(RunOne(batch, p));
  }
  return sdk::Status();
}

sdk::Status PerRequestInstance::RunOne(HostBatch& batch, const PendingRequest& request) {
  auto dir = TempDir::Create();
  if (!dir.ok()) return dir.status();
  sdk::Status written =
      WriteRequestFiles((*dir)->path(), context_.model, request.view, request.wanted);
  if (!written.ok()) return written;

  SpawnSpec spec;
  spec.program = context_.params.program;
  spec.argv = context_.params.argv;
  spec.working_dir = context_.model.version_dir;
  spec.env = ProgramEnvironment(context_, instance_);
  spec.env.emplace_back("SWITCHYARD_EXEC_DIR", (*dir)->path());
  spec.stdio = SpawnSpec::Stdio::kLogOnly;
  spec.stderr_tail_lines = static_cast<size_t>(context_.params.stderr_tail_lines);
  spec.log_line = HostLogLine(context_, instance_);
  auto child = ChildProcess::Start(*context_.spawner, spec);
  if (!child.ok()) return child.status();

  std::string what = "the program " + CommandText(context_.params) + " (pid " +
                     std::to_string((*child)->pid()) + ")";
  // Waits in slices, so that a request whose client went away or whose timeout passed ends
  // its run (Finish kills the run's process group).
  const Deadline deadline = RunDeadline(context_.params);
  bool ended = false;
  SyCancelState cancelled = SY_NOT_CANCELLED;
  while (!ended && cancelled == SY_NOT_CANCELLED && std::chrono::steady_clock::now() < deadline) {
    ended = (*child)->WaitExit(std::min(deadline, std::chrono::steady_clock::now() + kCancelPoll));
    if (!ended) cancelled = batch.Cancelled(request.index);
  }
  ExitStatus exit = (*child)->Finish();
  std::string tail = (*child)->StderrLines();
  if (cancelled != SY_NOT_CANCELLED) {
    batch.FailCancelled(request.index, cancelled,
                        "while it ran: " + what + " " + exit.ToString() + " by the plugin");
    return sdk::Status();
  }
  if (!ended) {
    batch.Fail(request.index, sdk::Internal(DescribeProgramEnd(
                                  what + " did not finish within timeout_ms = " +
                                      std::to_string(context_.params.timeout_ms) + " ms",
                                  exit, true, tail)));
    return sdk::Status();
  }
  auto files = ReadResponseFiles((*dir)->path(), context_.model);
  if (files.ok() && (*files)->response.failed) {
    // The program reported the request's error itself (whatever its exit status): that is the
    // answer, as in persistent mode.
    batch.Fail(request.index, (*files)->response.error);
    return sdk::Status();
  }
  if (!exit.Success()) {
    batch.Fail(request.index,
               sdk::Internal(DescribeProgramEnd(what + " failed", exit, false, tail)));
    return sdk::Status();
  }
  if (!files.ok()) {
    batch.Fail(request.index, sdk::Internal(DescribeProgramEnd(
                                  what + ": " + files.status().message(), exit, false, tail)));
    return sdk::Status();
  }
  auto matched =
      MatchOutputs(context_.model, request.wanted, request.batch_size, (*files)->outputs);
  if (!matched.ok()) {
    batch.Fail(request.index, matched.status());
    return sdk::Status();
  }
  batch.AnswerOutputs(request, *matched);
  return sdk::Status();
}

}  // namespace switchyard::exec
