#pragma once
// One model's scheduler: its bounded request queue, the dynamic batcher and the dispatcher that
// hands each batch to an instance with a free slot (late binding: a request waits in the model's
// queue, not in an instance's, until some instance can take work).
//
// Thread-safety: Submit, Poke and Shutdown may be called from any thread. A batch that can go at
// once is cut on the thread that made it possible (the submitting thread, or the instance's
// thread when a batch completes); one dispatcher thread per model handles the rest: batch
// delays, deadlines and cancellations.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/mutex.h"
#include "instance/instance.h"
#include "scheduler/batch_policy.h"
#include "scheduler/instance_picker.h"
#include "scheduler/model_stats.h"
#include "scheduler/request_queue.h"
#include "scheduler/running_deadlines.h"
#include "switchyard/clock.h"
#include "switchyard/model_config.h"

namespace switchyard {

struct SchedulerOptions {
  int queue_max_size = 512;
  int priority_levels = 1;
  int max_inflight_batches = 2;  // per instance
  BatchPolicy batch_policy;
  RoutingPolicy routing = RoutingPolicy::kFastest;
  uint64_t routing_seed = 1;  // p2c's random choices
  // A request whose instance was lost while executing it runs again once (true), or is answered
  // with the loss (false: ModelConfig::idempotent).
  bool retry_lost = true;
  // The model's version, put into every response.
  int64_t model_version = 1;
};

// A consistent snapshot of a scheduler, for status pages.
struct SchedulerSnapshot {
  struct InstanceRow {
    std::string name;
    int inflight_batches = 0;
    int64_t outstanding_items = 0;
    uint64_t batches = 0;            // executed
    uint64_t items = 0;              // executed
    Duration average_batch_time{0};  // EWMA over batch sizes
    InstanceHealth health;
    std::string drained;  // why it takes no batches (SetDrained); empty when it may
  };
  std::vector<InstanceRow> instances;
  std::vector<std::size_t> queue_depth_by_priority;  // index 0 = priority 1 (highest)
  Duration oldest_wait{0};                           // of the requests still queued
  int queue_max_size = 0;
};

SchedulerOptions SchedulerOptionsFromConfig(const ModelConfig& config, int64_t version);

class ModelScheduler {
 public:
  // REQUIRES: `instances` non-empty; `stats` has had AddInstance called for each, in order.
  // `clock` and `stats` must outlive the scheduler.
  ModelScheduler(SchedulerOptions options, std::vector<std::unique_ptr<Instance>> instances,
                 Clock* clock, ModelStats* stats);
  ~ModelScheduler();  // calls Shutdown()

  ModelScheduler(const ModelScheduler&) = delete;
  ModelScheduler& operator=(const ModelScheduler&) = delete;

  // Queues `entry` or refuses it (ResourceExhausted when the queue is full, Unavailable after
  // Shutdown), leaving `entry` untouched so the caller answers it.
  Status Submit(QueuedRequest&& entry) EXCLUDES(mu_);

  // Wakes the dispatcher to re-check deadlines and cancellations (used after a FakeClock moves
  // and by cancel tokens).
  void Poke() EXCLUDES(mu_);

  // Refuses new work, answers every queued request Unavailable, waits for executing batches,
  // and stops the dispatcher. Idempotent.
  void Shutdown() EXCLUDES(mu_);

  // Refuses new work but keeps executing what is queued, until nothing is queued or executing
  // or `timeout` (real time) has passed; then Shutdown (which answers what is left
  // Unavailable).
  void Drain(Duration timeout) EXCLUDES(mu_);

  // Takes instance `index` out of service, `reason` saying why (e.g. "GPU1 failed: ..."), or
  // back into service with an empty `reason`. A drained instance takes no batches: routing
  // skips it, requests bound to it (round_robin) are unbound so that the other instances take
  // them, and it does not count as available. Batches it is executing finish. No effect when
  // `reason` is what it was already.
  // REQUIRES: index < instance_count().
  void SetDrained(std::size_t index, std::string reason) EXCLUDES(mu_);

  std::size_t queue_size() const EXCLUDES(mu_);
  SchedulerSnapshot Snapshot() const EXCLUDES(mu_);
  std::size_t instance_count() const { return instance_count_; }
  // Whether some instance can take batches now (available and not drained).
  bool AnyInstanceAvailable() const EXCLUDES(mu_);
  // Why no instance can take batches now, e.g. "no instance is available (drained: GPU1
  // failed: ...)"; empty when one can.
  std::string UnavailableReason() const EXCLUDES(mu_);

 private:
  struct InstanceSlot {
    std::unique_ptr<Instance> instance;
    int inflight = 0;               // batches
    int64_t outstanding_items = 0;  // in those batches
    uint64_t batches = 0;           // completed
    uint64_t items = 0;             // completed
    ServiceTimeEstimate service;
    Duration inflight_estimate{0};  // estimated time of the batches in flight
    TimePoint busy_since;           // when the batch now executing started (estimated)
    TimePoint last_completion;
    bool solo_inflight = false;  // a retried request's batch is executing here
    std::string drained;         // why it takes no batches (SetDrained); empty: it may
  };
  struct InflightBatch {
    std::vector<QueuedRequest> requests;
    std::vector<InferRequest*> views;
    std::size_t slot = 0;
    int64_t items = 0;
    TimePoint dispatched;
    Duration estimate{0};
    bool solo = false;  // a retried request alone
  };
  // What the dispatcher does next, outside the lock.
  struct Work {
    std::vector<QueuedRequest> expired;
    std::vector<QueuedRequest> cancelled;
    // Executing requests whose client deadline passed: their tokens, to expire.
    std::vector<std::shared_ptr<CancelToken>> expire;
    Instance* instance = nullptr;  // null: no batch to execute
    uint64_t batch_id = 0;
    std::span<InferRequest* const> batch;
    bool stop = false;
  };

  void DispatchLoop() EXCLUDES(mu_);
  // Cuts and executes a batch on the calling thread if an instance is free and the batch policy
  // says now (the common case needs no thread switch); otherwise leaves it to the dispatcher.
  // `deadline_needs_watch`: a request just queued has a deadline earlier than the dispatcher's
  // next wake; if it is still queued afterwards, the dispatcher is woken to watch it.
  void DispatchNow(bool deadline_needs_watch = false) EXCLUDES(mu_);
  void Execute(Instance* instance, uint64_t batch_id, std::span<InferRequest* const> batch);
  Work NextWork() EXCLUDES(mu_);
  // Cuts a batch for a free instance if the routing policy and batch policy say so; otherwise
  // lowers `wake` to when to decide again. Returns the batch id, 0 if none was cut.
  uint64_t TryCutBatch(TimePoint now, TimePoint* wake) REQUIRES(mu_);
  void Answer(std::vector<QueuedRequest> entries, const Status& status, TimePoint now);
  void OnBatchDone(uint64_t batch_id, std::vector<RequestOutputs> outputs) EXCLUDES(mu_);
  void OnInstanceEvent(std::size_t index, InstanceEvent event) EXCLUDES(mu_);
  // Requeues `entry`, whose instance was lost while executing it, at the front of the queue as
  // a solo batch, unless it was retried before, the model does not retry (retry_lost), it sent
  // a partial response (its client saw part of the answer) or the scheduler is stopping (then
  // false, and `entry` is untouched).
  bool Retry(QueuedRequest& entry) EXCLUDES(mu_);
  // Why `entry`, lost with its instance, may not run again, as a parenthesised remark for its
  // error (" (already retried once)"); empty when it may.
  std::string_view NoRetryReason(const QueuedRequest& entry) const;

  const SchedulerOptions options_;
  Clock* const clock_;
  ModelStats* const stats_;
  const std::size_t instance_count_;

  mutable Mutex mu_;
  CondVar cv_;
  RequestQueue queue_ GUARDED_BY(mu_);
  std::vector<InstanceSlot> instances_ GUARDED_BY(mu_);
  std::unordered_map<uint64_t, InflightBatch> inflight_ GUARDED_BY(mu_);
  RunningDeadlines running_deadlines_ GUARDED_BY(mu_);  // of the requests in inflight_
  uint64_t next_batch_id_ GUARDED_BY(mu_) = 1;
  std::unique_ptr<InstancePicker> picker_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  bool draining_ GUARDED_BY(mu_) = false;
  CondVar drain_cv_;  // signalled when a batch completes while draining
  // When the waiting dispatcher wakes on its own (max: only when signalled; min: it is awake
  // and will look at everything again). Others signal it only for something earlier.
  TimePoint dispatcher_wake_ GUARDED_BY(mu_) = TimePoint::min();
  std::thread dispatcher_;
};

}  // namespace switchyard
