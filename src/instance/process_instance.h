#pragma once
// An instance whose model runs in a worker process (`isolation: process`): batches travel to the
// worker through shared-memory slots (one per batch in flight) named by small messages on a
// Unix socket; outputs come back the same way. Inputs of requests whose bodies were received in
// shared memory (Server::NewRequestBody) are not copied: the Execute names them where they lie,
// in body regions the worker maps once (ipc::MapRegion). Outputs the worker allocated in its
// output pool are not copied either: the response tensors point into the worker's output
// regions, and the worker may reuse that memory once the last of them is gone (ReleaseOutputs).
//
// Supervision: a worker that exits, is killed, closes its channel, breaks the protocol, or is
// silent (no answer and no pong) for heartbeat_timeout, or found stopped (SIGSTOP) once two
// pings went unanswered, is marked down at once (InstanceEvent::kUnavailable); the batches it held
// are answered kAborted (the scheduler retries them once elsewhere); it is restarted after a
// backoff that doubles from restart_backoff up to max_restart_backoff, and announces kRestarted +
// kAvailable once the new worker is ready (loaded and warmed up). A worker that fails to come up
// max_failed_restarts times in a row leaves the instance `failed` for good; a start that fails for
// want of system resources (descriptors, processes, memory: ResourceExhausted) does not count, and
// is retried as long as it lasts. A worker whose backend lost its device (ipc::DeviceLost) is lost
// the same way, and the DeviceFaultListener hears of it before its batches are answered, and
// again (recovered) when a restarted worker is ready.
//
// The decisions (silent, stopped, over time, when to restart) are WorkerSupervision's, on the
// clock of the options; this class does the I/O around them.
//
// Thread-safety: see Instance. Internally: one supervisor thread (heartbeats, restarts) and one
// reader thread per worker.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/mutex.h"
#include "instance/cancel_relay.h"
#include "instance/instance.h"
#include "ipc/messages.h"
#include "ipc/shm_region.h"
#include "supervisor/supervision.h"
#include "supervisor/worker_process.h"
#include "switchyard/clock.h"
#include "switchyard/model_config.h"

namespace switchyard {

struct ProcessInstanceOptions {
  // How to start the worker: a `switchyard worker` command line (the instance adds
  // --heartbeat-ms).
  WorkerCommand command;
  int max_inflight_batches = 2;                           // shared-memory slots
  Duration heartbeat_interval = std::chrono::seconds(1);  // between pings
  // Silent this long: killed. A worker answers pings between batches and sends its own pongs
  // while one executes (worker::BusyHeartbeat), so only a worker that is gone, stopped or wedged
  // as a whole falls silent; a long batch does not.
  Duration heartbeat_timeout = std::chrono::seconds(10);
  // The longest one batch may execute (measured from when the worker can start it: its send, or
  // the answer to the batch before it); past it the worker is killed and the batch's requests
  // are answered DeadlineExceeded naming the timeout (not retried). Zero: no limit (the
  // default; the model's instances.execution_timeout_ms).
  Duration execution_timeout{};
  Duration load_timeout = std::chrono::minutes(10);  // start to ready
  Duration restart_backoff = std::chrono::milliseconds(100);
  Duration max_restart_backoff = std::chrono::seconds(10);
  int max_failed_restarts = 5;                      // consecutive restarts that never became ready
  Duration stop_timeout = std::chrono::seconds(5);  // after Shutdown, before SIGKILL
  // How long the reader spins for the worker's next message before it sleeps (0: it sleeps at
  // once; ServerOptions::poll).
  Duration poll{};
  // The time supervision decides by (heartbeats, execution timeouts, restart backoff); null:
  // SteadyClock. Waiting on sockets and condition variables is in real time regardless.
  const Clock* clock = nullptr;
  // Recycling (instances.recycle_vram_mb): once a heartbeat, what the worker (pid) and the
  // processes it started hold on its GPUs, bytes (nullopt: cannot tell). Past
  // recycle_device_memory_bytes the instance takes no new batches, and once those in flight are
  // answered its worker is ended gracefully and a new one started (a restart; no request
  // fails). Off when either is unset.
  std::function<std::optional<uint64_t>(long pid)> device_memory_of;
  uint64_t recycle_device_memory_bytes = 0;
};

// Tells a worker that the server is done with a batch's outputs in its output regions
// (ipc::ReleaseOutputs), for as long as the worker's channel exists. Responses hold it (through
// their output tensors), so it may outlive the worker and the instance. Thread-safe.
class WorkerOutputReleaser {
 public:
  explicit WorkerOutputReleaser(ipc::Channel* channel) : channel_(channel) {}
  // Sends ReleaseOutputs{batch_id}; a failure (the worker is gone) is ignored.
  void Release(uint64_t batch_id) EXCLUDES(mu_);
  // The channel is about to go: later Releases do nothing.
  void Detach() EXCLUDES(mu_);

 private:
  Mutex mu_;
  ipc::Channel* channel_ GUARDED_BY(mu_);
};

class ProcessInstance final : public Instance {
 public:
  // Starts the worker and waits until it is ready. Fails with InvalidArgument when the backend
  // refused the model's config (a restart would fail the same way); otherwise Unavailable with
  // the worker's own load error, or how it died while loading, or after load_timeout. The
  // worker is gone then.
  // `config` must outlive the instance.
  static StatusOr<std::unique_ptr<ProcessInstance>> Start(const ModelConfig* config,
                                                          std::string name,
                                                          ProcessInstanceOptions options);
  // Asks the worker to end, waits up to stop_timeout, then kills it. Batches still pending are
  // answered Unavailable.
  ~ProcessInstance() override;

  const std::string& name() const override { return name_; }
  void Execute(std::span<InferRequest* const> requests, BatchDone done) override;
  bool available() const override { return available_.load(std::memory_order_acquire); }
  InstanceHealth Health() const override;
  void SetObserver(std::function<void(InstanceEvent)> observer) override;
  void SetDeviceFaultListener(DeviceFaultListener listener) override;

  // What the worker reported its model holds on its device (SyInstanceDeviceMemory), bytes.
  uint64_t device_memory_bytes() const { return device_memory_bytes_.load(); }
  // Input bytes copied into slots, and input bytes the worker read where the request bodies
  // were received (shared memory), since the start.
  uint64_t input_bytes_copied() const { return input_bytes_copied_.load(); }
  uint64_t input_bytes_in_place() const { return input_bytes_in_place_.load(); }

 private:
  enum class State { kUp, kDown, kFailed, kStopping };
  static constexpr std::size_t kMaxOutputRegions = 1024;  // per worker
  static constexpr std::chrono::milliseconds kDeviceLostExitWait{1000};
  // One started worker and the thread reading its channel.
  struct Worker {
    uint64_t id = 0;
    std::unique_ptr<WorkerProcess> process;
    std::thread reader;
    // Body regions this worker was sent (MapRegion). The lock is held across the check and the
    // send, so an Execute never overtakes the announcement of a region it names.
    Mutex regions_mu;
    std::unordered_set<uint32_t> mapped_regions GUARDED_BY(regions_mu);
    // The worker's output regions (its MapRegions), by id. Touched by the reader thread only.
    std::unordered_map<uint32_t, std::shared_ptr<const ipc::ShmRegion>> output_regions;
    std::shared_ptr<WorkerOutputReleaser> releaser;  // set when the process is
    ~Worker() {
      if (releaser) releaser->Detach();
    }
  };
  // What InferRequest::progress and InferRequest::partial of one request were.
  struct Followers {
    std::shared_ptr<const ProgressFn> progress;
    std::shared_ptr<PartialResponses> partial;
  };
  struct Pending {
    uint32_t slot = 0;
    std::size_t request_count = 0;
    BatchDone done;
    // Writes the cancel flags in the slot: stopped whenever the batch leaves pending_, before
    // its slot is released.
    std::shared_ptr<CancelRelay> cancel_relay;
    // Since when the worker has been executing it: set when it is the oldest batch in flight.
    std::optional<TimePoint> executing_since;
    // Who follows each request (its progress and partial responses), by position; empty when
    // no request has a follower.
    std::vector<Followers> followers;
  };
  // A shared-memory slot. Its regions are touched only by whoever holds the slot (between
  // taking it from free_slots_ and releasing it), so they need no lock.
  struct Slot {
    std::optional<ipc::ShmRegion> inputs;   // ours; the worker maps it
    std::optional<ipc::ShmRegion> outputs;  // the worker's; we map it
    uint64_t inputs_known_to = 0;           // the worker id that has mapped `inputs`
  };

  ProcessInstance(const ModelConfig* config, std::string name, ProcessInstanceOptions options);

  // Spawns a worker and waits for it to be ready; on success installs it and starts its reader.
  Status StartWorker() EXCLUDES(mu_);
  // Notes that the worker spoke (a result or a pong): it is alive.
  void Heard() EXCLUDES(mu_);
  TimePoint Now() const { return clock_->Now(); }
  void ReadLoop(std::shared_ptr<Worker> worker) EXCLUDES(mu_);
  void HandleResult(Worker& worker, const ipc::Result& result, ipc::UniqueFd fd) EXCLUDES(mu_);
  // Passes a progress report to its request's follower (none for a batch already answered).
  void HandleProgress(const ipc::Progress& progress) EXCLUDES(mu_);
  // Checks a partial response against the config and passes it to its request's follower.
  // Errors: the worker broke the protocol (a malformed response).
  Status HandlePartial(const ipc::Partial& partial) EXCLUDES(mu_);
  // Each request's followers, by position; empty when none of them has one.
  static std::vector<Followers> BatchFollowers(std::span<InferRequest* const> requests);
  // The followers of request `request` of batch `batch_id`; empty when the batch was answered.
  Followers FollowersOf(uint64_t batch_id, uint32_t request) EXCLUDES(mu_);
  // Adds a Result's output bytes to the copied / in-place counters, and its execute time.
  void CountResult(const ipc::Result& result);
  // Maps an output region the worker announced. Errors: the worker broke the protocol.
  Status MapOutputRegion(Worker& worker, const ipc::MapRegion& map, ipc::UniqueFd fd);
  // The worker `worker_id` is lost: marks the instance down, fails its batches, schedules a
  // restart. No-op if that worker is not the current one any more. `device_error`: the worker
  // said its backend lost the device with this message (the listener hears it first).
  void OnWorkerLost(uint64_t worker_id, const std::string& why,
                    const std::optional<std::string>& device_error = std::nullopt) EXCLUDES(mu_);
  void SuperviseLoop() EXCLUDES(mu_);
  // Once a heartbeat while up: starts recycling when the worker's processes hold more device
  // memory than the limit (unlocks mu_ around the measurement and the event).
  void CheckRecycle() REQUIRES(mu_);
  // Recycling and nothing in flight: ends the worker gracefully; the supervisor then starts a
  // new one after the restart backoff (unlocks mu_ while the worker ends).
  void RetireForRecycle() REQUIRES(mu_);
  // Prepares the slot's input region and sends the Execute message (after the MapRegion of any
  // body region the worker has not mapped yet).
  Status SendBatch(Worker& worker, uint64_t batch_id, uint32_t slot,
                   std::span<InferRequest* const> requests, CancelRelay& cancel_relay);
  Status AnnounceRegions(Worker& worker, const std::vector<const SharedMemoryBlock*>& regions);
  // A batch's `done` and what it is to be called with.
  struct BatchAnswer {
    BatchDone done;
    std::vector<RequestOutputs> outputs;
  };
  // A slot has two holders while its batch is in flight: the batch's sender (until SendBatch
  // returns) and whoever answers the batch. Each lets go here, the answerer with the `answer`.
  // The batch is answered (`done` called, on the thread that lets go last) only once both have
  // let go, after the slot is back in free_slots_: the scheduler, which counts batches in flight
  // by their answers, then never sends a batch while no slot is free, and Execute never waits
  // for one.
  void ReleaseSlot(uint32_t slot, std::optional<BatchAnswer> answer) EXCLUDES(mu_);
  // Takes `batch_id` out of pending_ (nullopt if someone already answered it) and stops its
  // cancel relay; the worker then executes the next one.
  std::optional<Pending> TakePending(uint64_t batch_id) EXCLUDES(mu_);
  // The id of the batch the worker executes (the oldest in flight), or 0 when none is.
  uint64_t ExecutingBatch() const REQUIRES(mu_);
  // Starts the execution clock of the oldest batch in flight, if it has none yet.
  void StartExecutionClock() REQUIRES(mu_);
  void Notify(InstanceEvent event) EXCLUDES(mu_);
  void SetState(State state) REQUIRES(mu_);
  int64_t ExecutionTimeoutMs() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(options_.execution_timeout)
        .count();
  }

  const ModelConfig* const config_;
  const std::string name_;
  const ProcessInstanceOptions options_;
  const Clock* const clock_;
  std::vector<Slot> slots_;  // fixed size: max_inflight_batches
  std::atomic<bool> available_{false};
  std::atomic<uint64_t> device_memory_bytes_{0};
  std::atomic<uint64_t> input_bytes_copied_{0};
  std::atomic<uint64_t> input_bytes_in_place_{0};
  std::atomic<uint64_t> output_bytes_copied_{0};
  std::atomic<uint64_t> output_bytes_in_place_{0};
  std::atomic<uint64_t> backend_batches_{0};
  std::atomic<uint64_t> backend_execute_ns_{0};

  mutable Mutex mu_;
  CondVar supervisor_cv_;
  State state_ GUARDED_BY(mu_) = State::kDown;
  std::shared_ptr<Worker> worker_ GUARDED_BY(mu_);
  std::vector<std::shared_ptr<Worker>> retired_ GUARDED_BY(mu_);  // lost, reader to be joined
  WorkerProcess* starting_ GUARDED_BY(mu_) = nullptr;             // a worker not yet ready
  bool lost_in_progress_ GUARDED_BY(mu_) = false;                 // OnWorkerLost is reaping worker_
  uint64_t next_worker_id_ GUARDED_BY(mu_) = 1;
  std::unordered_map<uint64_t, Pending> pending_ GUARDED_BY(mu_);
  uint64_t next_batch_id_ GUARDED_BY(mu_) = 1;
  std::vector<uint32_t> free_slots_ GUARDED_BY(mu_);
  std::vector<int> slot_holders_ GUARDED_BY(mu_);
  // Per slot: the answer to its batch, when it came while the sender still held the slot.
  std::vector<std::optional<BatchAnswer>> deferred_answers_ GUARDED_BY(mu_);
  WorkerSupervision supervision_ GUARDED_BY(mu_);
  uint64_t ping_sequence_ GUARDED_BY(mu_) = 0;
  // The batch whose execution timeout killed the current worker (0: none): its requests are
  // answered DeadlineExceeded when the loss is handled.
  uint64_t timed_out_batch_ GUARDED_BY(mu_) = 0;
  int restarts_ GUARDED_BY(mu_) = 0;
  std::string last_error_ GUARDED_BY(mu_);
  std::function<void(InstanceEvent)> observer_ GUARDED_BY(mu_);
  bool device_lost_ GUARDED_BY(mu_) = false;  // since a DeviceLost, until a new worker is ready
  bool recycling_ GUARDED_BY(mu_) = false;    // over its device memory: retired once idle
  DeviceFaultNotifier fault_notifier_;
  std::thread supervisor_;
};

}  // namespace switchyard
