#include "instance/process_instance.h"

#include <poll.h>

#include <algorithm>
#include <utility>

#include "core/check.h"
#include "core/thread_name.h"
#include "fmt/format.h"
#include "instance/shm_tensors.h"
#include "plugin/partial_outputs.h"
#include "spdlog/spdlog.h"
#include "switchyard/backend.h"

namespace switchyard {
namespace {

constexpr uint64_t kMinInputRegion = 1 << 20;

// Held by the output tensors of one batch that lie in the worker's output regions: keeps those
// regions mapped, and tells the worker when the last of the tensors is gone.
class OutputLease {
 public:
  OutputLease(std::shared_ptr<WorkerOutputReleaser> releaser, uint64_t batch_id,
              std::vector<std::shared_ptr<const ipc::ShmRegion>> regions)
      : releaser_(std::move(releaser)), batch_id_(batch_id), regions_(std::move(regions)) {}
  ~OutputLease() { releaser_->Release(batch_id_); }
  OutputLease(const OutputLease&) = delete;
  OutputLease& operator=(const OutputLease&) = delete;

 private:
  const std::shared_ptr<WorkerOutputReleaser> releaser_;
  const uint64_t batch_id_;
  const std::vector<std::shared_ptr<const ipc::ShmRegion>> regions_;
};

std::shared_ptr<const void> MakeOutputLease(
    std::shared_ptr<WorkerOutputReleaser> releaser,
    const std::unordered_map<uint32_t, std::shared_ptr<const ipc::ShmRegion>>& known,
    const ipc::Result& result) {
  std::vector<std::shared_ptr<const ipc::ShmRegion>> regions;
  for (const ipc::RequestResult& answer : result.requests) {
    for (const ipc::TensorRef& ref : answer.outputs) {
      auto it = known.find(ref.region);
      if (it != known.end() &&
          std::find(regions.begin(), regions.end(), it->second) == regions.end()) {
        regions.push_back(it->second);
      }
    }
  }
  return std::make_shared<const OutputLease>(std::move(releaser), result.batch_id,
                                             std::move(regions));
}

// Real time: the supervisor waits on a condition variable and on a socket.
TimePoint SteadyNow() { return SteadyClock::Get()->Now(); }

SupervisionOptions SupervisionOf(const ProcessInstanceOptions& options) {
  return {.heartbeat_interval = options.heartbeat_interval,
          .heartbeat_timeout = options.heartbeat_timeout,
          .execution_timeout = options.execution_timeout,
          .restart_backoff = options.restart_backoff,
          .max_restart_backoff = options.max_restart_backoff,
          .max_failed_restarts = options.max_failed_restarts};
}

// Receives the next message, waiting until `deadline` at most.
StatusOr<ipc::Message> ReceiveBefore(ipc::Channel& channel, TimePoint deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyNow());
  pollfd pfd{.fd = channel.fd(), .events = POLLIN, .revents = 0};
  int ready = poll(&pfd, 1, static_cast<int>(std::max<int64_t>(0, left.count())));
  if (ready == 0) return DeadlineExceeded("timed out");
  ASSIGN_OR_RETURN(auto received, channel.Receive());
  auto decoded = ipc::Decode(received.bytes);
  if (!decoded.ok()) return Internal(decoded.status().message());  // the worker broke protocol
  return decoded;
}

// Waits for Hello then Ready; returns the device memory Ready reported. InvalidArgument when the
// backend refused the model's config; FailedPrecondition for the worker's other reasons.
StatusOr<uint64_t> AwaitReady(ipc::Channel& channel, TimePoint deadline) {
  while (true) {
    ASSIGN_OR_RETURN(ipc::Message message, ReceiveBefore(channel, deadline));
    if (auto* hello = std::get_if<ipc::Hello>(&message)) {
      if (hello->api_version != SY_BACKEND_API_VERSION) {
        return FailedPrecondition(fmt::format("the worker speaks backend API {}, we speak {}",
                                              hello->api_version, SY_BACKEND_API_VERSION));
      }
    } else if (auto* ready = std::get_if<ipc::Ready>(&message)) {
      return ready->device_memory_bytes;
    } else if (auto* failed = std::get_if<ipc::LoadFailed>(&message)) {
      if (failed->code == static_cast<uint32_t>(StatusCode::kInvalidArgument)) {
        return InvalidArgument(failed->message);
      }
      return FailedPrecondition(failed->message);  // the worker's own reason
    } else {
      return Internal(fmt::format("unexpected {} while loading", ipc::MessageName(message)));
    }
  }
}

std::vector<RequestOutputs> AllFailed(std::size_t count, const Status& status) {
  std::vector<RequestOutputs> outputs;
  for (std::size_t i = 0; i < count; ++i) outputs.emplace_back(status);
  return outputs;
}

}  // namespace

StatusOr<std::unique_ptr<ProcessInstance>> ProcessInstance::Start(const ModelConfig* config,
                                                                  std::string name,
                                                                  ProcessInstanceOptions options) {
  std::unique_ptr<ProcessInstance> instance(
      new ProcessInstance(config, std::move(name), std::move(options)));
  RETURN_IF_ERROR(instance->StartWorker());
  instance->supervisor_ = std::thread([raw = instance.get()] {
    NameThisThread("sy-supervise");
    raw->SuperviseLoop();
  });
  return instance;
}

ProcessInstance::ProcessInstance(const ModelConfig* config, std::string name,
                                 ProcessInstanceOptions options)
    : config_(config),
      name_(std::move(name)),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : SteadyClock::Get()),
      slots_(static_cast<std::size_t>(std::max(1, options_.max_inflight_batches))),
      supervision_(SupervisionOf(options_)) {
  MutexLock lock(&mu_);
  for (uint32_t i = 0; i < slots_.size(); ++i) free_slots_.push_back(i);
  slot_holders_.assign(slots_.size(), 0);
  deferred_answers_.resize(slots_.size());
}

ProcessInstance::~ProcessInstance() {
  std::shared_ptr<Worker> worker;
  std::vector<std::shared_ptr<Worker>> retired;
  std::unordered_map<uint64_t, Pending> pending;
  bool lost = false;
  {
    MutexLock lock(&mu_);
    SetState(State::kStopping);
    if (starting_ != nullptr) starting_->Kill();  // a restart in progress gives up at once
    // A worker being reported lost (OnWorkerLost runs on its reader) is reaped there: only
    // its reader is joined here.
    lost = lost_in_progress_;
    worker = std::move(worker_);
    retired = std::move(retired_);
    pending = std::move(pending_);
    supervisor_cv_.SignalAll();
  }
  if (supervisor_.joinable()) supervisor_.join();
  for (auto& [id, batch] : pending) {
    batch.cancel_relay->Stop();
    batch.done(AllFailed(batch.request_count, Unavailable(name_ + " is shutting down")));
  }
  if (worker && lost) {
    if (worker->reader.joinable()) worker->reader.join();
    worker.reset();
  }
  if (worker) {
    (void)worker->process->channel().Send(ipc::Encode(ipc::Shutdown{}));
    if (!worker->process->WaitFor(
            std::chrono::duration_cast<std::chrono::milliseconds>(options_.stop_timeout)))
      worker->process->Kill();
    retired.push_back(std::move(worker));
  }
  for (auto& old : retired) {
    old->process->Kill();
    old->process->channel().Shutdown();
    if (old->reader.joinable()) old->reader.join();
  }
}

Status ProcessInstance::StartWorker() {
  WorkerCommand command = options_.command;
  const auto heartbeat_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(options_.heartbeat_interval).count();
  command.args.insert(command.args.end(),
                      {"--heartbeat-ms", std::to_string(std::max<int64_t>(1, heartbeat_ms))});
  ASSIGN_OR_RETURN(auto process, WorkerProcess::Spawn(command));
  {
    MutexLock lock(&mu_);
    starting_ = process.get();
  }
  auto ready = AwaitReady(process->channel(), SteadyNow() + options_.load_timeout);
  {
    MutexLock lock(&mu_);
    starting_ = nullptr;
  }
  if (!ready.ok()) {
    process->Kill();
    std::string how = process->Wait();
    if (ready.status().code() == StatusCode::kInvalidArgument) {  // a config error: not retried
      return InvalidArgument(fmt::format("{}: {}", name_, ready.status().message()));
    }
    if (ready.status().code() == StatusCode::kFailedPrecondition) {
      return Unavailable(fmt::format("{}: {}", name_, ready.status().message()));
    }
    return Unavailable(fmt::format("{}: the worker (pid {}) {} while loading ({})", name_,
                                   process->pid(), how, ready.status().message()));
  }
  device_memory_bytes_.store(*ready);
  auto worker = std::make_shared<Worker>();
  worker->process = std::move(process);
  worker->releaser = std::make_shared<WorkerOutputReleaser>(&worker->process->channel());
  MutexLock lock(&mu_);
  if (state_ == State::kStopping) return Unavailable(name_ + " is shutting down");
  worker->id = next_worker_id_++;
  worker->reader = std::thread([this, worker] {
    NameThisThread("sy-results");
    ReadLoop(worker);
  });
  worker_ = std::move(worker);
  supervision_.WorkerReady(Now());
  recycling_ = false;
  SetState(State::kUp);
  return Status::Ok();
}

void ProcessInstance::SetState(State state) {
  state_ = state;
  available_.store(state == State::kUp, std::memory_order_release);
}

void ProcessInstance::SetObserver(std::function<void(InstanceEvent)> observer) {
  MutexLock lock(&mu_);
  observer_ = std::move(observer);
}

void ProcessInstance::SetDeviceFaultListener(DeviceFaultListener listener) {
  fault_notifier_.Set(std::move(listener));
}

void ProcessInstance::Notify(InstanceEvent event) {
  std::function<void(InstanceEvent)> observer;
  {
    MutexLock lock(&mu_);
    observer = observer_;
  }
  if (observer) observer(event);
}

InstanceHealth ProcessInstance::Health() const {
  MutexLock lock(&mu_);
  InstanceHealth health;
  switch (state_) {
    case State::kUp:
      health.state = "ready";
      break;
    case State::kDown:
      health.state = "restarting";
      break;
    case State::kFailed:
      health.state = "failed";
      break;
    case State::kStopping:
      health.state = "stopping";
      break;
  }
  health.restarts = restarts_;
  health.last_error = last_error_;
  if (worker_) health.pid = static_cast<long>(worker_->process->pid());
  health.input_bytes_copied = input_bytes_copied_.load(std::memory_order_relaxed);
  health.input_bytes_in_place = input_bytes_in_place_.load(std::memory_order_relaxed);
  health.output_bytes_copied = output_bytes_copied_.load(std::memory_order_relaxed);
  health.output_bytes_in_place = output_bytes_in_place_.load(std::memory_order_relaxed);
  health.backend_batches = backend_batches_.load(std::memory_order_relaxed);
  health.backend_execute_ns = backend_execute_ns_.load(std::memory_order_relaxed);
  return health;
}

void ProcessInstance::Execute(std::span<InferRequest* const> requests, BatchDone done) {
  std::shared_ptr<Worker> worker;
  uint64_t batch_id = 0;
  uint32_t slot = 0;
  std::shared_ptr<CancelRelay> cancel_relay = CancelRelay::Create(requests);
  {
    MutexLock lock(&mu_);
    // A batch is answered only once its slot is free (ReleaseSlot), and the scheduler sends no
    // more batches than it has had answered plus max_inflight_batches.
    SY_CHECK(state_ != State::kUp || !free_slots_.empty(),
             "a batch sent with every slot in use: the scheduler and the instance disagree on "
             "the batches in flight");
    if (state_ == State::kUp) worker = worker_;
    if (worker) {
      slot = free_slots_.back();
      free_slots_.pop_back();
      slot_holders_[slot] = 2;  // this sender, and whoever answers the batch
      batch_id = next_batch_id_++;
      pending_[batch_id] = Pending{.slot = slot,
                                   .request_count = requests.size(),
                                   .done = std::move(done),
                                   .cancel_relay = cancel_relay,
                                   .followers = BatchFollowers(requests)};
      StartExecutionClock();
    }
  }
  if (!worker) {
    // Only a batch racing with the worker's loss gets here.
    cancel_relay->Stop();
    return done(AllFailed(requests.size(), Aborted(name_ + " is not available")));
  }
  Status sent = SendBatch(*worker, batch_id, slot, requests, *cancel_relay);
  if (!sent.ok() && sent.code() != StatusCode::kUnavailable) {
    // Not a lost worker (its reader will notice that): this batch cannot be sent at all.
    if (auto pending = TakePending(batch_id)) {
      ReleaseSlot(slot,
                  BatchAnswer{std::move(pending->done),
                              AllFailed(requests.size(),
                                        Internal(fmt::format("{}: {}", name_, sent.message())))});
    }
  }
  ReleaseSlot(slot, std::nullopt);
}

Status ProcessInstance::SendBatch(Worker& worker, uint64_t batch_id, uint32_t slot,
                                  std::span<InferRequest* const> requests,
                                  CancelRelay& cancel_relay) {
  Slot& s = slots_[slot];
  uint64_t need = SlotInputBytes(requests);
  if (!s.inputs || s.inputs->size() < need) {
    uint64_t size = std::max({need, kMinInputRegion, s.inputs ? 2 * s.inputs->size() : 0});
    ASSIGN_OR_RETURN(s.inputs, ipc::ShmRegion::Create("switchyard-inputs", size));
    s.inputs_known_to = 0;
  }
  ipc::Execute execute{.batch_id = batch_id, .slot = slot};
  int fd = -1;
  if (s.inputs_known_to != worker.id) {
    fd = s.inputs->fd();
    execute.slot_size = s.inputs->size();
    s.inputs_known_to = worker.id;
  }
  WrittenInputs written =
      WriteInputs(*config_, requests, {s.inputs->data(), s.inputs->size()}, &execute);
  cancel_relay.SetFlags(s.inputs->data() + execute.cancel_flags);
  input_bytes_copied_.fetch_add(written.copied_bytes, std::memory_order_relaxed);
  input_bytes_in_place_.fetch_add(written.in_place_bytes, std::memory_order_relaxed);
  RETURN_IF_ERROR(AnnounceRegions(worker, written.regions));
  return worker.process->channel().Send(ipc::Encode(execute), fd);
}

Status ProcessInstance::AnnounceRegions(Worker& worker,
                                        const std::vector<const SharedMemoryBlock*>& regions) {
  if (regions.empty()) return Status::Ok();
  MutexLock lock(&worker.regions_mu);
  for (const SharedMemoryBlock* region : regions) {
    if (worker.mapped_regions.contains(region->region_id())) continue;
    ipc::MapRegion map{.region = region->region_id(), .size = region->region_size()};
    RETURN_IF_ERROR(worker.process->channel().Send(ipc::Encode(map), region->region_fd()));
    worker.mapped_regions.insert(map.region);
  }
  return Status::Ok();
}

void ProcessInstance::ReleaseSlot(uint32_t slot, std::optional<BatchAnswer> answer) {
  {
    MutexLock lock(&mu_);
    if (--slot_holders_[slot] > 0) {
      if (answer) deferred_answers_[slot] = std::move(answer);
      return;
    }
    free_slots_.push_back(slot);
    if (!answer) answer = std::exchange(deferred_answers_[slot], std::nullopt);
  }
  if (answer) answer->done(std::move(answer->outputs));
}

std::optional<ProcessInstance::Pending> ProcessInstance::TakePending(uint64_t batch_id) {
  MutexLock lock(&mu_);
  auto node = pending_.extract(batch_id);
  if (node.empty()) return std::nullopt;
  StartExecutionClock();
  if (recycling_ && pending_.empty()) supervisor_cv_.SignalAll();  // the worker may go now
  node.mapped().cancel_relay->Stop();
  return std::move(node.mapped());
}

uint64_t ProcessInstance::ExecutingBatch() const {
  uint64_t oldest = 0;  // batch ids start at 1
  for (const auto& [id, unused] : pending_) {
    if (oldest == 0 || id < oldest) oldest = id;
  }
  return oldest;
}

void ProcessInstance::StartExecutionClock() {
  auto executing = pending_.find(ExecutingBatch());
  if (executing != pending_.end() && !executing->second.executing_since) {
    executing->second.executing_since = Now();
  }
}

void ProcessInstance::Heard() {
  MutexLock lock(&mu_);
  supervision_.Heard(Now());
}

void ProcessInstance::ReadLoop(std::shared_ptr<Worker> worker) {
  while (true) {
    auto received = worker->process->channel().Receive(options_.poll);
    if (!received.ok()) return OnWorkerLost(worker->id, "its channel closed");
    auto message = ipc::Decode(received->bytes);
    if (!message.ok()) {
      return OnWorkerLost(worker->id, "it sent a malformed message: " + message.status().message());
    }
    if (auto* result = std::get_if<ipc::Result>(&*message)) {
      Heard();
      HandleResult(*worker, *result, std::move(received->fd));
    } else if (auto* map = std::get_if<ipc::MapRegion>(&*message)) {
      Heard();
      if (Status mapped = MapOutputRegion(*worker, *map, std::move(received->fd)); !mapped.ok()) {
        return OnWorkerLost(worker->id, mapped.message());
      }
    } else if (std::holds_alternative<ipc::Pong>(*message)) {
      Heard();
    } else if (auto* progress = std::get_if<ipc::Progress>(&*message)) {
      Heard();
      HandleProgress(*progress);
    } else if (auto* partial = std::get_if<ipc::Partial>(&*message)) {
      Heard();
      if (Status handled = HandlePartial(*partial); !handled.ok()) {
        return OnWorkerLost(worker->id,
                            "it sent a malformed partial response: " + handled.message());
      }
    } else if (auto* lost = std::get_if<ipc::DeviceLost>(&*message)) {
      return OnWorkerLost(worker->id, "its backend lost the GPU: " + lost->message, lost->message);
    } else {
      return OnWorkerLost(worker->id,
                          fmt::format("it sent an unexpected {}", ipc::MessageName(*message)));
    }
  }
}

Status ProcessInstance::MapOutputRegion(Worker& worker, const ipc::MapRegion& map,
                                        ipc::UniqueFd fd) {
  if (worker.output_regions.size() >= kMaxOutputRegions) {
    return Internal(fmt::format("it announced more than {} output regions", kMaxOutputRegions));
  }
  auto mapped = ipc::ShmRegion::Map(std::move(fd), map.size);
  if (!mapped.ok()) {
    return Internal("its output region could not be mapped: " + mapped.status().message());
  }
  worker.output_regions[map.region] =
      std::make_shared<const ipc::ShmRegion>(std::move(mapped).value());
  return Status::Ok();
}

std::vector<ProcessInstance::Followers> ProcessInstance::BatchFollowers(
    std::span<InferRequest* const> requests) {
  std::vector<Followers> followers;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if (!requests[i]->progress && !requests[i]->partial) continue;
    followers.resize(requests.size());
    followers[i] = {.progress = requests[i]->progress, .partial = requests[i]->partial};
  }
  return followers;
}

ProcessInstance::Followers ProcessInstance::FollowersOf(uint64_t batch_id, uint32_t request) {
  MutexLock lock(&mu_);
  auto it = pending_.find(batch_id);
  if (it == pending_.end() || request >= it->second.followers.size()) return {};
  return it->second.followers[request];
}

void ProcessInstance::HandleProgress(const ipc::Progress& progress) {
  Followers followers = FollowersOf(progress.batch_id, progress.request);
  if (followers.progress) (*followers.progress)(progress.fraction, progress.message);
}

Status ProcessInstance::HandlePartial(const ipc::Partial& partial) {
  std::vector<SyOutput> outputs;
  outputs.reserve(partial.outputs.size());
  for (const ipc::PartialOutput& output : partial.outputs) {
    outputs.push_back({.output = output.index,
                       .shape = output.shape.data(),
                       .dim_count = static_cast<uint32_t>(output.shape.size()),
                       .data = output.bytes.data(),
                       .byte_size = output.bytes.size()});
  }
  RETURN_IF_ERROR(plugin::CheckPartialOutputs(*config_, outputs));
  Followers followers = FollowersOf(partial.batch_id, partial.request);
  if (followers.partial) followers.partial->Send(plugin::CopyPartialOutputs(*config_, outputs));
  return Status::Ok();
}

void ProcessInstance::HandleResult(Worker& worker, const ipc::Result& result, ipc::UniqueFd fd) {
  const bool shared_outputs = NamesOutputRegions(result);
  auto pending = TakePending(result.batch_id);
  if (!pending) {  // already failed by a loss that raced with this answer
    if (shared_outputs) worker.releaser->Release(result.batch_id);
    return;
  }
  Slot& s = slots_[pending->slot];
  std::vector<RequestOutputs> outputs;
  if (fd.valid()) {
    auto mapped = ipc::ShmRegion::Map(std::move(fd), result.slot_size);
    if (mapped.ok()) {
      s.outputs = std::move(mapped).value();
    } else {
      outputs = AllFailed(pending->request_count,
                          Internal(fmt::format("{}: {}", name_, mapped.status().message())));
    }
  }
  if (outputs.empty()) {
    OutputMemory memory{.regions = &worker.output_regions};
    if (s.outputs) memory.slot = {s.outputs->data(), s.outputs->size()};
    if (shared_outputs) {
      memory.keeper = MakeOutputLease(worker.releaser, worker.output_regions, result);
    }
    outputs = ReadOutputs(*config_, result, memory, pending->request_count);
    CountResult(result);
  } else if (shared_outputs) {
    worker.releaser->Release(result.batch_id);
  }
  ReleaseSlot(pending->slot, BatchAnswer{std::move(pending->done), std::move(outputs)});
}

void ProcessInstance::CountResult(const ipc::Result& result) {
  uint64_t copied = 0;
  uint64_t in_place = 0;
  for (const ipc::RequestResult& answer : result.requests) {
    for (const ipc::TensorRef& ref : answer.outputs)
      (ref.region == 0 ? copied : in_place) += ref.size;
  }
  output_bytes_copied_.fetch_add(copied, std::memory_order_relaxed);
  output_bytes_in_place_.fetch_add(in_place, std::memory_order_relaxed);
  backend_batches_.fetch_add(1, std::memory_order_relaxed);
  backend_execute_ns_.fetch_add(result.execute_ns, std::memory_order_relaxed);
}

void WorkerOutputReleaser::Release(uint64_t batch_id) {
  MutexLock lock(&mu_);
  if (channel_ != nullptr) {
    (void)channel_->Send(ipc::Encode(ipc::ReleaseOutputs{.batch_id = batch_id}));
  }
}

void WorkerOutputReleaser::Detach() {
  MutexLock lock(&mu_);
  channel_ = nullptr;
}

void ProcessInstance::OnWorkerLost(uint64_t worker_id, const std::string& why,
                                   const std::optional<std::string>& device_error) {
  std::shared_ptr<Worker> worker;
  std::unordered_map<uint64_t, Pending> lost;
  uint64_t timed_out = 0;
  {
    MutexLock lock(&mu_);
    if (!worker_ || worker_->id != worker_id || state_ != State::kUp) return;
    worker = worker_;
    SetState(State::kDown);
    lost_in_progress_ = true;
    lost = std::move(pending_);
    pending_.clear();
    timed_out = std::exchange(timed_out_batch_, 0);
  }
  // A worker that lost its device leaves by itself at once; its exit code says so.
  if (device_error) worker->process->WaitFor(kDeviceLostExitWait);
  worker->process->Kill();
  std::string how = worker->process->Wait();
  std::string cause = fmt::format("{} was lost: its worker (pid {}) {}; {}", name_,
                                  worker->process->pid(), how, why);
  spdlog::error("{}", cause);
  {
    MutexLock lock(&mu_);
    last_error_ = cause;
    supervision_.WorkerLost(Now());
    lost_in_progress_ = false;
    if (device_error) device_lost_ = true;
    if (worker_ == worker) {
      retired_.push_back(std::move(worker_));
      worker_.reset();
    }
    supervisor_cv_.SignalAll();
  }
  // The GPU is drained before its batches are retried, so that they go elsewhere.
  if (device_error) fault_notifier_.Notify(/*lost=*/true, *device_error);
  Notify(InstanceEvent::kUnavailable);
  for (auto& [id, batch] : lost) {
    batch.cancel_relay->Stop();
    Status failed =
        id == timed_out
            ? DeadlineExceeded(fmt::format("{}: the batch executed longer than the model's "
                                           "execution timeout of {} ms "
                                           "(instances.execution_timeout_ms); its worker was "
                                           "killed",
                                           name_, ExecutionTimeoutMs()))
            : Aborted(cause);
    ReleaseSlot(batch.slot,
                BatchAnswer{std::move(batch.done), AllFailed(batch.request_count, failed)});
  }
}

void ProcessInstance::CheckRecycle() {
  if (recycling_ || state_ != State::kUp || options_.recycle_device_memory_bytes == 0 ||
      !options_.device_memory_of) {
    return;
  }
  std::shared_ptr<Worker> worker = worker_;
  mu_.Unlock();
  const std::optional<uint64_t> held = options_.device_memory_of(worker->process->pid());
  mu_.Lock();
  if (state_ != State::kUp || worker_ != worker || !held ||
      *held <= options_.recycle_device_memory_bytes) {
    return;
  }
  recycling_ = true;
  available_.store(false, std::memory_order_release);
  spdlog::info(
      "{}: recycling the worker (pid {}): its processes hold {} MiB of GPU memory "
      "(instances.recycle_vram_mb = {}); it takes no new batches and is restarted once those "
      "in flight are answered",
      name_, worker->process->pid(), *held >> 20, options_.recycle_device_memory_bytes >> 20);
  mu_.Unlock();
  Notify(InstanceEvent::kUnavailable);
  mu_.Lock();
}

void ProcessInstance::RetireForRecycle() {
  std::shared_ptr<Worker> worker = std::move(worker_);
  worker_.reset();
  SetState(State::kDown);
  supervision_.WorkerLost(Now());  // the next start after the base backoff
  retired_.push_back(worker);      // its reader is joined once it sees the channel close
  mu_.Unlock();
  (void)worker->process->channel().Send(ipc::Encode(ipc::Shutdown{}));
  if (!worker->process->WaitFor(
          std::chrono::duration_cast<std::chrono::milliseconds>(options_.stop_timeout))) {
    worker->process->Kill();
  }
  spdlog::info("{}: the recycled worker (pid {}) {}", name_, worker->process->pid(),
               worker->process->Wait());
  worker->process->channel().Shutdown();
  mu_.Lock();
}

void ProcessInstance::SuperviseLoop() {
  MutexLock lock(&mu_);
  while (state_ != State::kStopping) {
    // Join readers of lost workers (they have returned or are about to).
    std::vector<std::shared_ptr<Worker>> retired = std::move(retired_);
    retired_.clear();
    if (!retired.empty()) {
      mu_.Unlock();
      for (auto& old : retired) old->reader.join();
      retired.clear();
      mu_.Lock();
      continue;
    }
    TimePoint now = Now();
    if (state_ == State::kUp) {
      // A worker late with its pong may be stopped: then it is replaced now, not after the
      // heartbeat timeout (its model would stall that long, still reported ready).
      bool stopped = false;
      if (supervision_.ShouldCheckStopped(now)) {
        std::shared_ptr<Worker> worker = worker_;
        mu_.Unlock();
        stopped = worker->process->Stopped();
        mu_.Lock();
        if (state_ != State::kUp || worker_ != worker) continue;
      }
      {
        auto executing = pending_.find(ExecutingBatch());
        if (executing != pending_.end() && executing->second.executing_since &&
            supervision_.ExecutionTimedOut(*executing->second.executing_since, now)) {
          std::shared_ptr<Worker> worker = worker_;
          timed_out_batch_ = executing->first;
          spdlog::error(
              "{}: a batch has executed longer than the execution timeout ({} ms): "
              "killing its worker (pid {})",
              name_, ExecutionTimeoutMs(), worker->process->pid());
          mu_.Unlock();
          worker->process->Kill();
          mu_.Lock();
          continue;
        }
      }
      const Duration silence = supervision_.Silence(now);
      if (supervision_.Check(now, stopped) != WorkerSupervision::Verdict::kAlive) {
        // Condemned once: its reader reports the loss.
        std::shared_ptr<Worker> worker = worker_;
        spdlog::error("{}: the worker (pid {}) {} for {} ms (no pong, no result): killing it",
                      name_, worker->process->pid(),
                      stopped ? "is stopped and was silent" : "was silent",
                      std::chrono::duration_cast<std::chrono::milliseconds>(silence).count());
        mu_.Unlock();
        worker->process->Kill();
        mu_.Lock();
        continue;
      }
      if (recycling_ && pending_.empty()) {
        RetireForRecycle();
        continue;
      }
      std::shared_ptr<Worker> worker = worker_;
      uint64_t sequence = ++ping_sequence_;
      mu_.Unlock();
      (void)worker->process->channel().Send(ipc::Encode(ipc::Ping{.sequence = sequence}));
      mu_.Lock();
      CheckRecycle();
      if (state_ != State::kUp || (recycling_ && pending_.empty())) continue;
      supervisor_cv_.WaitFor(&mu_, options_.heartbeat_interval);
      continue;
    }
    // Not while a loss is still being handled: its restart time is not set yet.
    if (state_ == State::kDown && !lost_in_progress_ && supervision_.RestartDue(now)) {
      mu_.Unlock();
      Status started = StartWorker();
      mu_.Lock();
      if (started.ok()) {  // StartWorker told supervision_ it is ready
        ++restarts_;
        spdlog::info("{}: worker restarted ({} restart(s) so far)", name_, restarts_);
        const bool recovered = std::exchange(device_lost_, false);
        mu_.Unlock();
        if (recovered) fault_notifier_.Notify(/*lost=*/false, {});
        Notify(InstanceEvent::kRestarted);
        Notify(InstanceEvent::kAvailable);
        mu_.Lock();
        continue;
      }
      if (state_ == State::kStopping) break;
      last_error_ = started.message();
      // Out of descriptors, processes or memory: the system's shortage, not the model's fault;
      // retried for as long as it lasts.
      const bool transient = started.code() == StatusCode::kResourceExhausted;
      if (supervision_.StartFailed(Now(), transient) ==
          WorkerSupervision::AfterFailedStart::kGiveUp) {
        SetState(State::kFailed);
        spdlog::error("{}: giving up after {} failed restarts: {}", name_,
                      supervision_.failed_restarts(), last_error_);
        continue;
      }
      spdlog::error(
          "{}: restart failed ({}); next try in {} ms", name_, last_error_,
          std::chrono::duration_cast<std::chrono::milliseconds>(supervision_.backoff()).count());
      continue;
    }
    // A loss being handled signals when it is done.
    Duration wait = state_ == State::kDown && !lost_in_progress_ ? supervision_.restart_at() - now
                                                                 : Duration(std::chrono::hours(1));
    supervisor_cv_.WaitFor(&mu_, wait);
  }
}

}  // namespace switchyard
