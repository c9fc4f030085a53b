#include "exec/persistent_instance.h"

#include <fstream>
#include <string>

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

// Ends `child` (after giving it kExitGrace to exit by itself when `wait_for_exit`) and returns
// `what` with how it ended and its last stderr lines.
sdk::Status EndChild(ChildProcess& child, const std::string& what, bool wait_for_exit) {
  bool ended = child.WaitExit(
      std::chrono::steady_clock::now() +
      (wait_for_exit ? PersistentInstance::kExitGrace : std::chrono::milliseconds(0)));
  ExitStatus exit = child.Finish();
  return sdk::Internal(DescribeProgramEnd(what, exit, !ended, child.StderrLines()));
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
  if (child_ == nullptr || retire_) return;
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
  retire_ = true;
}

sdk::Status PersistentInstance::EndProgram(std::unique_lock<std::mutex>& lock, const InFlight& sent,
                                           const std::string& what, bool wait_for_exit) {
  if (sent.generation != generation_ || child_ != sent.child) {
    return sdk::Internal(what);  // another batch's failure already ended that program
  }
  // The other batch in flight, if any, fails as it waits for its turn.
  ++generation_;
  next_send_ = next_result_ = next_batch_id_;
  child_.reset();
  turn_cv_.notify_all();
  lock.unlock();
  sdk::Status ended = EndChild(*sent.child, what, wait_for_exit);
  lock.lock();
  return ended;
}

sdk::Status PersistentInstance::Start() {
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
  auto started = ChildProcess::Start(*context_.spawner, spec);
  if (!started.ok()) return started.status();
  std::shared_ptr<ChildProcess> child = std::move(started).value();
  ++generation_;
  requests_since_start_ = 0;

  OutgoingFrame hello = EncodeHello(context_.model, instance_, context_.params);
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(context_.params.startup_timeout_ms);
  ExchangeResult r = switchyard::exec::Exchange(child->socket_fd(), child->pid_fd(), &hello,
                                                FrameKind::kReady, kMaxReadySize, deadline);
  std::string prefix = "the program " + CommandText(context_.params) + " (pid " +
                       std::to_string(child->pid()) + ") failed the exec protocol handshake: ";
  auto failed = [&](const std::string& what, bool wait_for_exit) {
    return EndChild(*child, prefix + what, wait_for_exit);
  };
  if (r.failure == ExchangeFailure::kTimeout) {
    return failed("no READY frame within startup_timeout_ms = " +
                      std::to_string(context_.params.startup_timeout_ms) +
                      " ms (does it speak the switchyard exec protocol? see "
                      "docs/exec-backend.md)",
                  false);
  }
  if (r.failure != ExchangeFailure::kNone) {
    return failed(r.message, r.failure == ExchangeFailure::kProgramEnded);
  }
  auto features = DecodeReady(r.body);
  if (!features.ok()) return failed(features.status().message(), false);
  takes_parameters_ = (*features & kFeatureRequestParameters) != 0;
  takes_cancel_ = (*features & kFeatureCancel) != 0;
  reads_shared_inputs_ = shared_ != nullptr && (*features & kFeatureSharedInputs) != 0;
  if (generation_ == 1) pipelined_ = (*features & kFeaturePipelined) != 0;
  child_ = std::move(child);
  return sdk::Status();
}

sdk::StatusOr<PersistentInstance::InFlight> PersistentInstance::Admit(
    std::unique_lock<std::mutex>& lock) {
  // A program is started, ended or replaced only while no batch is in flight.
  turn_cv_.wait(lock, [&] { return in_flight_ == 0 || (child_ != nullptr && !retire_); });
  if (in_flight_ == 0) {
    if (retire_) {
      StopProgram();
      retire_ = false;
    }
    ForgetIfEnded();
    if (child_ == nullptr) {
      sdk::Status started = Start();
      if (!started.ok()) return started.Prefixed("restarting the exec program: ");
    }
  }
  ++in_flight_;
  return InFlight{.child = child_, .batch_id = next_batch_id_++, .generation = generation_};
}

bool PersistentInstance::AwaitTurn(std::unique_lock<std::mutex>& lock, const uint64_t& counter,
                                   const InFlight& sent) {
  turn_cv_.wait(lock, [&] { return counter == sent.batch_id || generation_ != sent.generation; });
  return generation_ == sent.generation;
}

ExchangeResult PersistentInstance::Write(const InFlight& sent, const OutgoingFrame& frame,
                                         Deadline deadline) {
  std::lock_guard<std::mutex> write(write_mu_);
  return SendFrame(sent.child->socket_fd(), sent.child->pid_fd(), frame, deadline);
}

ExchangeResult PersistentInstance::Exchange(const InFlight& sent, const OutgoingFrame& frame,
                                            const WatchWhileWaiting& watch,
                                            const InterimSink& interim, Deadline deadline) {
  const WatchWhileWaiting* watching = takes_cancel_ ? &watch : nullptr;
  if (!pipelined_) {  // one batch at a time: write and read at once, as a single exchange
    return switchyard::exec::Exchange(sent.child->socket_fd(), sent.child->pid_fd(), &frame,
                                      FrameKind::kResult, UINT32_MAX, deadline, watching, &interim);
  }
  ExchangeResult ended{.failure = ExchangeFailure::kProgramEnded,
                       .message = "the program ended while another batch failed"};
  std::unique_lock<std::mutex> lock(mu_);
  if (!AwaitTurn(lock, next_send_, sent)) return ended;
  lock.unlock();
  ExchangeResult written = Write(sent, frame, deadline);
  lock.lock();
  ++next_send_;
  turn_cv_.notify_all();
  if (written.failure != ExchangeFailure::kNone) return written;
  if (!AwaitTurn(lock, next_result_, sent)) return ended;
  lock.unlock();
  // The other thread may write meanwhile: CANCELs go through Write too, not through Exchange.
  WatchWhileWaiting write_cancels = [&] {
    for (const OutgoingFrame& cancel : watch()) (void)Write(sent, cancel, deadline);
    return std::vector<OutgoingFrame>();
  };
  ExchangeResult r = switchyard::exec::Exchange(sent.child->socket_fd(), sent.child->pid_fd(),
                                                nullptr, FrameKind::kResult, UINT32_MAX, deadline,
                                                takes_cancel_ ? &write_cancels : nullptr, &interim);
  lock.lock();
  if (r.failure == ExchangeFailure::kNone) {
    ++next_result_;
    turn_cv_.notify_all();
  }
  return r;
}

sdk::Status PersistentInstance::Execute(HostBatch& batch) {
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
  if (pending.empty()) return sdk::Status();
  std::vector<RequestView> views;
  views.reserve(pending.size());
  for (const PendingRequest& p : pending) views.push_back(p.view);

  std::unique_lock<std::mutex> lock(mu_);
  auto admitted = Admit(lock);
  if (!admitted.ok()) return admitted.status();
  const InFlight sent = std::move(admitted).value();
  struct Done {  // whatever happens below, the batch leaves the flight
    PersistentInstance* self;
    ~Done() {
      --self->in_flight_;
      self->turn_cv_.notify_all();
    }
  } done{this};
  // Each batch in flight has its own lane: ids alternate, and at most kLanes are in flight.
  std::optional<SharedLane> lane;
  if (reads_shared_inputs_) {
    lane.emplace(shared_->Lane(static_cast<int>(sent.batch_id % SharedInputs::kLanes)));
  }
  lock.unlock();
  auto frame = EncodeBatch(sent.batch_id, views, takes_parameters_, lane ? &lane.value() : nullptr);
  if (!frame.ok()) {
    lock.lock();
    return EndProgram(lock, sent, frame.status().message(), false);  // the order is broken
  }
  // A program that takes CANCEL frames hears of each request whose client goes away or whose
  // timeout passes while it works on the batch.
  std::vector<bool> told(pending.size(), false);
  WatchWhileWaiting tell_cancelled = [&] {
    std::vector<OutgoingFrame> cancels;
    for (size_t i = 0; i < pending.size(); ++i) {
      if (told[i]) continue;
      if (SyCancelState state = batch.Cancelled(pending[i].index); state != SY_NOT_CANCELLED) {
        cancels.push_back(EncodeCancel(sent.batch_id, static_cast<uint32_t>(i), state));
        told[i] = true;
      }
    }
    return cancels;
  };
  // The program's reports and partial responses on this batch's requests go to the host; one on
  // another batch (a pipelined program's next one is read by the thread that sent it) or out of
  // range is dropped.
  InterimSink pass_on = [&](FrameKind kind, std::span<const uint8_t> body) -> sdk::Status {
    if (kind == FrameKind::kProgress) {
      SY_ASSIGN_OR_RETURN(ProgressReport report, DecodeProgress(body));
      if (report.batch_id == sent.batch_id && report.request < pending.size()) {
        batch.Progress(pending[report.request].index, report.fraction, report.message);
      }
      return sdk::Status();
    }
    SY_ASSIGN_OR_RETURN(PartialReport partial, DecodePartial(body));
    if (partial.batch_id == sent.batch_id && partial.request < pending.size()) {
      batch.SendPartial(context_.model, pending[partial.request], partial.outputs);
    }
    return sdk::Status();
  };
  ExchangeResult r = Exchange(sent, *frame, tell_cancelled, pass_on, RunDeadline(context_.params));
  lock.lock();
  std::string prefix = "the program " + CommandText(context_.params) + " (pid " +
                       std::to_string(sent.child->pid()) + ") failed batch " +
                       std::to_string(sent.batch_id) + ": ";
  if (r.failure == ExchangeFailure::kTimeout) {
    return EndProgram(
        lock, sent,
        prefix + r.message + " (timeout_ms = " + std::to_string(context_.params.timeout_ms) + ")",
        false);
  }
  if (r.failure != ExchangeFailure::kNone) {
    return EndProgram(lock, sent, prefix + r.message, r.failure == ExchangeFailure::kProgramEnded);
  }
  auto result = DecodeResult(r.body);
  if (!result.ok()) {
    return EndProgram(lock, sent, prefix + "malformed RESULT frame: " + result.status().message(),
                      false);
  }
  if (result->batch_id != sent.batch_id || result->requests.size() != pending.size()) {
    return EndProgram(lock, sent,
                      prefix + "RESULT for batch " + std::to_string(result->batch_id) + " with " +
                          std::to_string(result->requests.size()) + " requests, expected batch " +
                          std::to_string(sent.batch_id) + " with " + std::to_string(pending.size()),
                      false);
  }
  lock.unlock();
  for (size_t i = 0; i < pending.size(); ++i) {
    batch.Answer(context_.model, pending[i], result->requests[i]);
  }
  lock.lock();
  if (sent.generation != generation_) return sdk::Status();  // answered; the program is gone since
  requests_since_start_ += pending.size();
  if (result->program_ends && !retire_) {
    Log(SY_LOG_INFO, "the program (pid " + std::to_string(sent.child->pid()) +
                         ") ends after this batch, as it said; the next batch starts a new one");
    retire_ = true;
  }
  RecycleIfDue();
  if (retire_ && in_flight_ == 1) {  // nothing else in flight: end it now, not on the next batch
    StopProgram();
    retire_ = false;
  }
  return sdk::Status();
}

}  // namespace switchyard::exec
