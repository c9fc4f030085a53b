#include "exec/persistent_instance.h"

#include <fstream>
#include <string>

#include "exec/frame_channel.h"
#include "exec/frame_protocol.h"

namespace switchyard::exec {
namespace {

constexpr uint32_t kMaxReadySize = 1 << 16;

// The resident memory of process `pid` in MiB (VmRSS of /proc/<pid>/status); 0 if unknown.
int64_t ResidentMiB(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) / 1024;  // kB
  }
  return 0;
}

}  // namespace

PersistentInstance::~PersistentInstance() { StopProgram(); }

void PersistentInstance::StopProgram() {
  if (child_ == nullptr) return;
  child_->CloseSocket();
  child_->WaitExit(std::chrono::steady_clock::now() + kShutdownGrace);
  child_->Finish();
  child_.reset();
}

void PersistentInstance::Log(SyLogLevel level, const std::string& message) const {
  context_.host->log(level, ("[exec " + instance_.name + "] " + message).c_str());
}

void PersistentInstance::ForgetIfEnded() {
  if (child_ == nullptr || !child_->WaitExit(std::chrono::steady_clock::now())) return;
  const pid_t pid = child_->pid();
  ExitStatus exit = child_->Finish();
  child_.reset();
  Log(SY_LOG_WARN, "the program (pid " + std::to_string(pid) + ") " + exit.ToString() +
                       " between batches; starting it again");
}

void PersistentInstance::RecycleIfDue() {
  if (child_ == nullptr) return;
  const ExecParameters& p = context_.params;
  std::string why;
  if (p.recycle_requests > 0 &&
      requests_since_start_ >= static_cast<uint64_t>(p.recycle_requests)) {
    why = std::to_string(requests_since_start_) +
          " requests (recycle_requests = " + std::to_string(p.recycle_requests) + ")";
  } else if (p.recycle_rss_mb > 0) {
    const int64_t rss = ResidentMiB(child_->pid());
    if (rss > p.recycle_rss_mb) {
      why = std::to_string(rss) +
            " MiB resident (recycle_rss_mb = " + std::to_string(p.recycle_rss_mb) + ")";
    }
  }
  if (why.empty()) return;
  Log(SY_LOG_INFO, "recycling the program (pid " + std::to_string(child_->pid()) + ") after " +
                       why + "; the next batch starts a fresh one");
  StopProgram();
}

Status PersistentInstance::EndProgram(const std::string& what, bool wait_for_exit) {
  bool ended = child_->WaitExit(std::chrono::steady_clock::now() +
                                (wait_for_exit ? kExitGrace : std::chrono::milliseconds(0)));
  ExitStatus exit = child_->Finish();
  std::string tail = child_->StderrLines();
  child_.reset();
  return Internal(DescribeProgramEnd(what, exit, !ended, tail));
}

Status PersistentInstance::Start() {
  SpawnSpec spec;
  spec.program = context_.params.program;
  spec.argv = context_.params.argv;
  spec.working_dir = context_.model.version_dir;
  spec.env = ProgramEnvironment(context_, instance_);
  spec.stdio = SpawnSpec::Stdio::kProtocolSocket;
  spec.stderr_tail_lines = static_cast<size_t>(context_.params.stderr_tail_lines);
  spec.log_line = HostLogLine(context_, instance_);
  if (context_.params.shared_memory_mb > 0) {
    if (shared_ == nullptr) {  // one region for the instance, whichever program uses it
      auto shared =
          SharedInputs::Create(static_cast<uint64_t>(context_.params.shared_memory_mb) << 20);
      if (!shared.ok()) return shared.status();
      shared_ = std::move(shared).value();
    }
    spec.extra_fd = shared_->fd();
    spec.env.emplace_back("SWITCHYARD_EXEC_SHM_FD", std::to_string(SpawnSpec::kExtraFd));
    spec.env.emplace_back("SWITCHYARD_EXEC_SHM_BYTES", std::to_string(shared_->size()));
  }
  auto child = ChildProcess::Start(*context_.spawner, spec);
  if (!child.ok()) return child.status();
  child_ = std::move(child).value();
  requests_since_start_ = 0;

  OutgoingFrame hello = EncodeHello(context_.model, instance_, context_.params);
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(context_.params.startup_timeout_ms);
  ExchangeResult r = Exchange(child_->socket_fd(), child_->pid_fd(), &hello, FrameKind::kReady,
                              kMaxReadySize, deadline);
  std::string prefix = "the program " + CommandText(context_.params) + " (pid " +
                       std::to_string(child_->pid()) + ") failed the exec protocol handshake: ";
  if (r.failure == ExchangeFailure::kTimeout) {
    return EndProgram(prefix + "no READY frame within startup_timeout_ms = " +
                          std::to_string(context_.params.startup_timeout_ms) +
                          " ms (does it speak the switchyard exec protocol? see "
                          "docs/exec-backend.md)",
                      false);
  }
  if (r.failure != ExchangeFailure::kNone) {
    return EndProgram(prefix + r.message, r.failure == ExchangeFailure::kProgramEnded);
  }
  auto features = DecodeReady(r.body);
  if (!features.ok()) return EndProgram(prefix + features.status().message(), false);
  takes_parameters_ = (*features & kFeatureRequestParameters) != 0;
  takes_cancel_ = (*features & kFeatureCancel) != 0;
  reads_shared_inputs_ = shared_ != nullptr && (*features & kFeatureSharedInputs) != 0;
  return Status();
}

Status PersistentInstance::Execute(HostBatch& batch) {
  ForgetIfEnded();
  if (child_ == nullptr) {
    Status started = Start();
    if (!started.ok()) return started.Prefixed("restarting the exec program: ");
  }
  std::vector<PendingRequest> pending;
  uint32_t count = batch.request_count();
  pending.reserve(count);
  for (uint32_t r = 0; r < count; ++r) {
    if (SyCancelState state = batch.Cancelled(r); state != SY_NOT_CANCELLED) {
      batch.FailCancelled(r, state, "before it was sent to the program");
      continue;
    }
    PendingRequest p;
    if (batch.Read(context_.model, r, &p)) pending.push_back(std::move(p));
  }
  if (pending.empty()) return Status();
  std::vector<RequestView> views;
  views.reserve(pending.size());
  for (const PendingRequest& p : pending) views.push_back(p.view);

  uint64_t batch_id = next_batch_id_++;
  auto frame = EncodeBatch(batch_id, views, takes_parameters_,
                           reads_shared_inputs_ ? shared_.get() : nullptr);
  if (!frame.ok()) return frame.status();
  auto deadline = RunDeadline(context_.params);
  // A program that takes CANCEL frames hears of each request whose client goes away or whose
  // timeout passes while it works on the batch.
  std::vector<bool> told(pending.size(), false);
  WatchWhileWaiting tell_cancelled = [&] {
    std::vector<OutgoingFrame> cancels;
    for (size_t i = 0; i < pending.size(); ++i) {
      if (told[i]) continue;
      if (SyCancelState state = batch.Cancelled(pending[i].index); state != SY_NOT_CANCELLED) {
        cancels.push_back(EncodeCancel(batch_id, static_cast<uint32_t>(i), state));
        told[i] = true;
      }
    }
    return cancels;
  };
  ExchangeResult r =
      Exchange(child_->socket_fd(), child_->pid_fd(), &frame.value(), FrameKind::kResult,
               UINT32_MAX, deadline, takes_cancel_ ? &tell_cancelled : nullptr);
  std::string prefix = "the program " + CommandText(context_.params) + " (pid " +
                       std::to_string(child_->pid()) + ") failed batch " +
                       std::to_string(batch_id) + ": ";
  if (r.failure == ExchangeFailure::kTimeout) {
    return EndProgram(
        prefix + r.message + " (timeout_ms = " + std::to_string(context_.params.timeout_ms) + ")",
        false);
  }
  if (r.failure != ExchangeFailure::kNone) {
    return EndProgram(prefix + r.message, r.failure == ExchangeFailure::kProgramEnded);
  }
  auto result = DecodeResult(r.body);
  if (!result.ok()) {
    return EndProgram(prefix + "malformed RESULT frame: " + result.status().message(), false);
  }
  if (result->batch_id != batch_id || result->requests.size() != pending.size()) {
    return EndProgram(prefix + "RESULT for batch " + std::to_string(result->batch_id) + " with " +
                          std::to_string(result->requests.size()) + " requests, expected batch " +
                          std::to_string(batch_id) + " with " + std::to_string(pending.size()),
                      false);
  }
  for (size_t i = 0; i < pending.size(); ++i) {
    batch.Answer(context_.model, pending[i], result->requests[i]);
  }
  requests_since_start_ += pending.size();
  if (result->program_ends) {
    Log(SY_LOG_INFO, "the program (pid " + std::to_string(child_->pid()) +
                         ") ends after this batch, as it said; the next batch starts a new one");
    StopProgram();
  }
  RecycleIfDue();
  return Status();
}

}  // namespace switchyard::exec
