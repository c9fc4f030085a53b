#include "worker/worker.h"

#include <sched.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/thread_name.h"
#include "core/work_queue.h"
#include "fmt/format.h"
#include "instance/warmup.h"
#include "ipc/channel.h"
#include "ipc/messages.h"
#include "ipc/shm_pool.h"
#include "plugin/infer_request_batch.h"
#include "plugin/plugin_model.h"
#include "repository/repository.h"
#include "spdlog/spdlog.h"
#include "switchyard/clock.h"
#include "worker/busy_heartbeat.h"
#include "worker/shm_batch.h"

namespace switchyard::worker {
namespace {

// The loaded model and instance, in the order they must be released.
struct Loaded {
  ModelConfig config;
  std::unique_ptr<plugin::PluginLibrary> library;
  std::unique_ptr<plugin::PluginModel> model;
  std::unique_ptr<plugin::PluginInstance> instance;
  ~Loaded() {
    instance.reset();
    model.reset();
  }
};

Status Send(ipc::Channel& channel, const ipc::Message& message, int fd = -1) {
  return channel.Send(ipc::Encode(message), fd);
}

// Runs the config's warm-up requests through the instance in process.
Status WarmUpInstance(Loaded& loaded) {
  for (int i = 0; i < loaded.config.warmup.requests; ++i) {
    InferRequest request = WarmupRequest(loaded.config);
    InferRequest* requests[] = {&request};
    plugin::InferRequestBatch batch(&loaded.config, requests);
    Status status = loaded.instance->Execute(batch);
    auto outputs = batch.Finish(status);
    if (!outputs[0].ok()) {
      return Unavailable(fmt::format("warm-up request {} of {} failed: {}", i + 1,
                                     loaded.config.warmup.requests, outputs[0].status().message()));
    }
  }
  return Status::Ok();
}

// Pins this process (before the plugin starts threads, which inherit it) to `cpus`. A failure
// (a core the server may use but this process may not) is logged; the worker runs unpinned.
void PinTo(const std::vector<int>& cpus) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int cpu : cpus) {
    if (cpu >= 0 && cpu < CPU_SETSIZE) CPU_SET(cpu, &set);
  }
  if (sched_setaffinity(0, sizeof(set), &set) != 0) {
    spdlog::warn("worker: cannot pin to cores {}: {}", fmt::join(cpus, ","), std::strerror(errno));
  }
}

// The server pinned this worker to its GPUs with CUDA_VISIBLE_DEVICES before it started.
std::string VisibleDevicesOfThisProcess() {
  const char* visible = std::getenv("CUDA_VISIBLE_DEVICES");
  return visible != nullptr ? visible : "";
}

// Loads the plugin, the model and the instance (not warmed up yet).
StatusOr<std::unique_ptr<Loaded>> Load(const WorkerOptions& options) {
  auto loaded = std::make_unique<Loaded>();
  ASSIGN_OR_RETURN(RepositoryModel found, ScanModel(options.model_repository, options.model));
  loaded->config = std::move(found.config);
  ASSIGN_OR_RETURN(loaded->library, plugin::PluginLibrary::Load(options.plugin_path));
  ASSIGN_OR_RETURN(loaded->model, plugin::PluginModel::Create(loaded->library.get(), loaded->config,
                                                              options.version, found.path));
  ASSIGN_OR_RETURN(
      loaded->instance,
      plugin::PluginInstance::Create(
          loaded->model.get(), fmt::format("{}/{}", options.model, options.index), options.index,
          options.gpu_count, VisibleDevicesOfThisProcess(), options.simulated_gpu));
  return loaded;
}

// Leaves the process at once, without destructors: after a device loss nothing of the plugin may
// run any more (its teardown would call into the lost device); the OS and the driver reclaim
// the rest.
[[noreturn]] void ExitDeviceLost() {
  spdlog::default_logger()->flush();
  _exit(kExitDeviceLost);
}

// Executes the batches the server sends: on the thread that receives them (one thread wake-up
// per batch, the fewest there can be) for an instance that takes one Execute at a time; for one
// that takes several (SyInstanceConcurrency), on that many threads of a ConcurrentExecutor. Pings
// are answered by the receiving thread between batches; `heartbeat` speaks for the worker while
// batches execute.
// The plugin hears of every input region mapped and before it is unmapped
// (SyInstanceHostMemoryMapped), so that it may page-lock it for direct copies to its device.
// Thread-safety: Map and Release from the receiving thread; Run from any thread, concurrently
// for batches of different slots.
class Executor {
 public:
  Executor(Loaded* loaded, ipc::Channel* channel, BusyHeartbeat* heartbeat)
      : loaded_(loaded), channel_(channel), heartbeat_(heartbeat), slots_(kMaxSlots) {}
  ~Executor() {
    for (Slot& slot : slots_) ForgetInputs(slot);
    for (std::span<std::byte> region : body_regions_.All()) {
      loaded_->instance->HostMemoryUnmapping(region);
    }
  }

  // Maps a body region (once: a repeated announcement is ignored). Errors: as for Run.
  Status Map(const ipc::MapRegion& message, ipc::UniqueFd fd) {
    if (body_regions_.Find(message.region).empty() && body_regions_.size() >= kMaxBodyRegions) {
      return InvalidArgument(fmt::format("more than {} body regions", kMaxBodyRegions));
    }
    ASSIGN_OR_RETURN(std::span<std::byte> added,
                     body_regions_.Add(message.region, std::move(fd), message.size));
    if (!added.empty()) loaded_->instance->HostMemoryMapped(added);
    return Status::Ok();
  }

  // Executes one batch and answers it: a Result, or DeviceLost when the plugin lost its device
  // (then device_lost() is true and the worker must end). Errors: the server and this worker
  // disagree about the protocol (the worker must end).
  Status Run(const ipc::Execute& execute, ipc::UniqueFd fd) {
    if (execute.slot >= kMaxSlots) return InvalidArgument("slot index out of range");
    Slot& slot = slots_[execute.slot];  // the server sends a slot's next batch once answered
    if (fd.valid()) {
      ForgetInputs(slot);
      ASSIGN_OR_RETURN(slot.inputs, ipc::ShmRegion::Map(std::move(fd), execute.slot_size));
      loaded_->instance->HostMemoryMapped({slot.inputs->data(), slot.inputs->size()});
    }
    if (!slot.inputs) return InvalidArgument("an Execute for a slot with no memory");
    InputMemory inputs{.slot = {slot.inputs->data(), slot.inputs->size()},
                       .body_regions = &body_regions_};
    RETURN_IF_ERROR(ValidateExecute(loaded_->config, execute, inputs));
    ShmBatch batch(&loaded_->config, &execute, &inputs, &slot.outputs, output_pool_.get(),
                   [this](const ipc::Message& message) { return Send(*channel_, message); });
    const TimePoint start = SteadyClock::Get()->Now();
    heartbeat_->Begin();
    Status status = loaded_->instance->Execute(batch);
    heartbeat_->End();
    const Duration took = SteadyClock::Get()->Now() - start;
    if (const auto& lost = loaded_->instance->device_lost()) {
      return Send(*channel_, ipc::DeviceLost{.batch_id = execute.batch_id, .message = *lost});
    }
    bool grew = false;
    ASSIGN_OR_RETURN(ipc::Result result, batch.Finish(status, &grew));
    result.execute_ns =
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(took).count());
    std::vector<std::unique_ptr<SharedMemoryBlock>> blocks = batch.TakeOutputBlocks();
    {
      // Held across the check and the send: a Result never overtakes the announcement of a
      // region it names, whichever thread announced it.
      MutexLock lock(&outputs_mu_);
      for (const auto& block : blocks) {
        if (announced_.insert(block->region_id()).second) {
          RETURN_IF_ERROR(Send(
              *channel_, ipc::MapRegion{.region = block->region_id(), .size = block->region_size()},
              block->region_fd()));
        }
      }
      if (!blocks.empty()) held_outputs_[execute.batch_id] = std::move(blocks);
    }
    return Send(*channel_, result, grew ? slot.outputs->fd() : -1);
  }

  bool device_lost() const { return loaded_->instance->device_lost().has_value(); }

  // The server is done with a batch's outputs: their pool blocks are free again. Unknown batches
  // (none of whose outputs were in the pool) are ignored.
  void Release(const ipc::ReleaseOutputs& message) EXCLUDES(outputs_mu_) {
    MutexLock lock(&outputs_mu_);
    held_outputs_.erase(message.batch_id);
  }

 private:
  struct Slot {
    std::optional<ipc::ShmRegion> inputs;
    std::optional<ipc::ShmRegion> outputs;
  };

  // Tells the plugin before the slot's input region goes, and unmaps it.
  void ForgetInputs(Slot& slot) {
    if (!slot.inputs) return;
    loaded_->instance->HostMemoryUnmapping({slot.inputs->data(), slot.inputs->size()});
    slot.inputs.reset();
  }

  static constexpr std::size_t kMaxBodyRegions = 1024;
  static constexpr uint32_t kMaxSlots = 64;

  Loaded* const loaded_;
  ipc::Channel* const channel_;
  BusyHeartbeat* const heartbeat_;
  std::vector<Slot> slots_;  // kMaxSlots, each touched only by the batch that holds it
  BodyRegions body_regions_;
  // Outputs are allocated here; the server writes them to its clients from this memory.
  std::shared_ptr<ipc::ShmPool> output_pool_ = ipc::ShmPool::Create(
      {.name = "switchyard-outputs", .region_bytes = 16u << 20, .max_regions = 8});
  Mutex outputs_mu_;
  std::unordered_set<uint32_t> announced_ GUARDED_BY(outputs_mu_);  // output regions sent
  // Output blocks the server still reads, by batch (until ReleaseOutputs).
  std::unordered_map<uint64_t, std::vector<std::unique_ptr<SharedMemoryBlock>>> held_outputs_
      GUARDED_BY(outputs_mu_);
};

// Leaves the process at once after the server and this worker disagreed about the protocol on
// an executing thread (the receiving thread returns instead); the server restarts the worker.
[[noreturn]] void ExitProtocolError(const Status& status) {
  spdlog::error("worker: {}", status.message());
  spdlog::default_logger()->flush();
  _exit(3);
}

// Runs Execute messages on `threads` threads of its own, for an instance that takes that many
// Executes at once. Destruction (or Finish) waits for every batch handed over.
class ConcurrentExecutor {
 public:
  ConcurrentExecutor(Executor* executor, uint32_t threads) : executor_(executor) {
    for (uint32_t i = 0; i < threads; ++i) {
      threads_.emplace_back([this] {
        NameThisThread("sy-execute");
        while (std::optional<Job> job = queue_.Pop()) {
          Status status = executor_->Run(job->execute, std::move(job->fd));
          if (executor_->device_lost()) ExitDeviceLost();  // whether or not DeviceLost was sent
          if (!status.ok()) ExitProtocolError(status);
        }
      });
    }
  }
  ~ConcurrentExecutor() { Finish(); }

  void Run(ipc::Execute execute, ipc::UniqueFd fd) {
    (void)queue_.Push(Job{std::move(execute), std::move(fd)});  // open until Finish
  }
  // Waits until every batch handed over was answered.
  void Finish() {
    queue_.Close();
    for (std::thread& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }

 private:
  struct Job {
    ipc::Execute execute;
    ipc::UniqueFd fd;
  };
  Executor* const executor_;
  WorkQueue<Job> queue_;
  std::vector<std::thread> threads_;
};

}  // namespace

int RunWorker(const WorkerOptions& options) {
  // Die with the server; if it died before this line, getppid() already shows another parent.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != options.parent_pid) return 1;
  NameThisThread("sy-worker");  // also the process name ps shows
  if (!options.cpus.empty()) PinTo(options.cpus);
  std::signal(SIGINT, SIG_IGN);  // a terminal's ^C reaches the server, which ends us in order
  ipc::Channel channel{ipc::UniqueFd(options.channel_fd)};
  if (!Send(channel, ipc::Hello{.pid = getpid(), .api_version = SY_BACKEND_API_VERSION}).ok()) {
    return 1;
  }
  auto loaded = Load(options);
  if (!loaded.ok()) {
    (void)Send(channel, ipc::LoadFailed{.code = static_cast<uint32_t>(loaded.status().code()),
                                        .message = loaded.status().message()});
    return 2;
  }
  if (Status warm = WarmUpInstance(**loaded); !warm.ok()) {
    (void)Send(channel, ipc::LoadFailed{.code = static_cast<uint32_t>(StatusCode::kUnavailable),
                                        .message = warm.message()});
    if ((*loaded)->instance->device_lost()) ExitDeviceLost();
    return 2;
  }
  uint64_t memory = (*loaded)->instance->DeviceMemoryBytes().value_or(0);
  if (!Send(channel, ipc::Ready{.device_memory_bytes = memory}).ok()) return 1;
  BusyHeartbeat heartbeat(&channel, options.heartbeat_interval);
  Executor executor(loaded->get(), &channel, &heartbeat);
  const uint32_t concurrency = (*loaded)->instance->concurrency();
  std::optional<ConcurrentExecutor> concurrent;
  if (concurrency > 1) concurrent.emplace(&executor, concurrency);
  while (true) {
    auto received = channel.Receive(options.poll);
    if (!received.ok()) return 0;  // the server closed the channel: it is gone or ending us
    auto message = ipc::Decode(received->bytes);
    if (!message.ok()) {
      spdlog::error("worker: bad message from the server: {}", message.status().message());
      return 3;
    }
    if (auto* execute = std::get_if<ipc::Execute>(&*message)) {
      if (concurrent) {
        concurrent->Run(std::move(*execute), std::move(received->fd));
        continue;
      }
      Status status = executor.Run(*execute, std::move(received->fd));
      if (executor.device_lost()) ExitDeviceLost();  // whether or not DeviceLost was sent
      if (!status.ok()) {
        // The server and this worker disagree about the protocol: end; the server restarts us.
        spdlog::error("worker: {}", status.message());
        return 3;
      }
    } else if (auto* map = std::get_if<ipc::MapRegion>(&*message)) {
      if (Status status = executor.Map(*map, std::move(received->fd)); !status.ok()) {
        spdlog::error("worker: {}", status.message());
        return 3;
      }
    } else if (auto* release = std::get_if<ipc::ReleaseOutputs>(&*message)) {
      executor.Release(*release);
    } else if (auto* ping = std::get_if<ipc::Ping>(&*message)) {
      if (!Send(channel, ipc::Pong{.sequence = ping->sequence}).ok()) return 0;
    } else if (std::holds_alternative<ipc::Shutdown>(*message)) {
      if (concurrent) concurrent->Finish();
      return 0;  // every batch sent before it has been answered
    } else {
      spdlog::error("worker: unexpected {} from the server", ipc::MessageName(*message));
      return 3;
    }
  }
}

}  // namespace switchyard::worker
