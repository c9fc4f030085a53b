#include "scheduler/model_scheduler.h"

#include <algorithm>

#include "core/thread_name.h"
#include "fmt/format.h"

namespace switchyard {
namespace {

// Picks the outputs the request asked for, in the order it asked (all when it named none).
StatusOr<std::vector<Tensor>> SelectOutputs(const InferRequest& request,
                                            std::vector<Tensor> produced) {
  if (request.requested_outputs.empty()) return produced;
  std::vector<Tensor> selected;
  for (const auto& name : request.requested_outputs) {
    auto it = std::find_if(produced.begin(), produced.end(),
                           [&](const Tensor& t) { return t.name == name; });
    if (it == produced.end()) {
      return Internal(fmt::format("the backend produced no output '{}'", name));
    }
    selected.push_back(std::move(*it));
  }
  return selected;
}

}  // namespace

SchedulerOptions SchedulerOptionsFromConfig(const ModelConfig& config, int64_t version) {
  SchedulerOptions options;
  options.queue_max_size = config.queue.max_size;
  options.priority_levels = config.queue.priority_levels;
  options.max_inflight_batches = config.instances.max_inflight_batches;
  options.batch_policy.max_batch_size = config.max_batch_size;
  options.batch_policy.max_queue_delay =
      std::chrono::microseconds(config.batching.max_queue_delay_us);
  for (int size : config.batching.preferred_batch_sizes) {
    options.batch_policy.preferred_batch_sizes.push_back(size);
  }
  std::sort(options.batch_policy.preferred_batch_sizes.begin(),
            options.batch_policy.preferred_batch_sizes.end());
  options.routing = config.routing;
  options.retry_lost = config.idempotent;
  options.model_version = version;
  return options;
}

ModelScheduler::ModelScheduler(SchedulerOptions options,
                               std::vector<std::unique_ptr<Instance>> instances, Clock* clock,
                               ModelStats* stats)
    : options_(std::move(options)),
      clock_(clock),
      stats_(stats),
      instance_count_(instances.size()),
      queue_(options_.queue_max_size, options_.priority_levels),
      picker_(MakeInstancePicker(options_.routing, options_.routing_seed)) {
  for (std::size_t i = 0; i < instances.size(); ++i) {
    instances[i]->SetObserver([this, i](InstanceEvent event) { OnInstanceEvent(i, event); });
    instances_.push_back(InstanceSlot{.instance = std::move(instances[i])});
  }
  dispatcher_ = std::thread([this] {
    NameThisThread("sy-dispatch");
    DispatchLoop();
  });
}

ModelScheduler::~ModelScheduler() { Shutdown(); }

Status ModelScheduler::Submit(QueuedRequest&& entry) {
  // A client deadline is enforced on an executing request through its token.
  if (entry.client_deadline != TimePoint::max() && !entry.request->cancel) {
    entry.request->cancel = std::make_shared<CancelToken>();
  }
  std::shared_ptr<CancelToken> cancel = entry.request->cancel;
  // A cancellation while queued wakes the dispatcher, which drops the request. Set before the
  // lock: on a token already cancelled it runs at once, and Poke takes the lock.
  if (cancel) cancel->SetNotifier([this] { Poke(); });
  TimePoint deadline = entry.deadline;
  bool deadline_needs_watch = false;
  Status pushed;
  {
    MutexLock lock(&mu_);
    if (stopping_ || draining_) {
      pushed = Unavailable("the model is shutting down");
    } else {
      entry.instance = picker_->BindOnArrival(instances_.size());
      if (entry.instance >= 0 &&
          !instances_[static_cast<std::size_t>(entry.instance)].drained.empty()) {
        entry.instance = -1;  // not to a drained instance: whichever instance is free takes it
      }
      pushed = queue_.Push(std::move(entry));
    }
    if (pushed.ok()) {
      stats_->SetQueueDepth(queue_.size());
      // Cancelled before it was queued: its notifier already ran, so wake the dispatcher here.
      if (cancel && cancel->cancelled()) cv_.Signal();
      deadline_needs_watch = deadline < dispatcher_wake_;
    }
  }
  if (!pushed.ok()) {
    if (cancel) cancel->SetNotifier(nullptr);
    return pushed;
  }
  DispatchNow(deadline_needs_watch);
  return Status::Ok();
}

void ModelScheduler::DispatchNow(bool deadline_needs_watch) {
  Instance* instance = nullptr;
  uint64_t id = 0;
  std::span<InferRequest* const> views;
  {
    MutexLock lock(&mu_);
    if (stopping_) return;
    TimePoint wake = TimePoint::max();
    id = TryCutBatch(clock_->Now(), &wake);
    if (id != 0) {
      InflightBatch& batch = inflight_[id];
      instance = instances_[batch.slot].instance.get();
      views = batch.views;
      stats_->SetQueueDepth(queue_.size());
    }
    // A batch that must wait for its delay: the dispatcher keeps that time. So it does a new
    // request's deadline that is earlier than the dispatcher's next wake, unless the request
    // already left (the queue is empty): most requests go at once, and need no wake-up.
    if (wake < dispatcher_wake_ || (deadline_needs_watch && !queue_.empty())) cv_.Signal();
  }
  if (instance != nullptr) Execute(instance, id, views);
}

void ModelScheduler::Execute(Instance* instance, uint64_t batch_id,
                             std::span<InferRequest* const> batch) {
  instance->Execute(batch, [this, batch_id](std::vector<RequestOutputs> outputs) {
    OnBatchDone(batch_id, std::move(outputs));
  });
}

void ModelScheduler::Poke() {
  MutexLock lock(&mu_);
  cv_.SignalAll();
}

void ModelScheduler::Shutdown() {
  std::vector<QueuedRequest> abandoned;
  {
    MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    abandoned = queue_.TakeAll();
    stats_->SetQueueDepth(0);
    cv_.SignalAll();
  }
  Answer(std::move(abandoned), Unavailable("the server is shutting down"), clock_->Now());
  if (dispatcher_.joinable()) dispatcher_.join();
}

void ModelScheduler::Drain(Duration timeout) {
  {
    MutexLock lock(&mu_);
    draining_ = true;
    // Real time: draining is the process ending, not scheduling logic.
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!stopping_ && (!queue_.empty() || !inflight_.empty())) {
      auto left = deadline - std::chrono::steady_clock::now();
      if (left <= Duration(0)) break;
      drain_cv_.WaitFor(&mu_, std::chrono::duration_cast<Duration>(left));
    }
  }
  Shutdown();
}

std::size_t ModelScheduler::queue_size() const {
  MutexLock lock(&mu_);
  return queue_.size();
}

void ModelScheduler::DispatchLoop() {
  while (true) {
    Work work = NextWork();
    if (work.stop) return;
    TimePoint now = clock_->Now();
    Answer(std::move(work.expired),
           DeadlineExceeded("the request's deadline passed while it waited in the queue"), now);
    Answer(std::move(work.cancelled), Cancelled("the client cancelled the request"), now);
    for (const auto& token : work.expire) token->Expire();
    if (work.instance != nullptr) Execute(work.instance, work.batch_id, work.batch);
  }
}

ModelScheduler::Work ModelScheduler::NextWork() {
  MutexLock lock(&mu_);
  dispatcher_wake_ = TimePoint::min();  // awake: it re-reads everything before waiting again
  while (true) {
    if (stopping_ && inflight_.empty()) return Work{.stop = true};
    TimePoint now = clock_->Now();
    Work work;
    work.expired = queue_.TakeExpired(now);
    work.cancelled = queue_.TakeCancelled();
    work.expire = running_deadlines_.TakeDue(now);
    TimePoint wake = TimePoint::max();
    if (!stopping_ && !queue_.empty()) {
      if (uint64_t id = TryCutBatch(now, &wake); id != 0) {
        InflightBatch& batch = inflight_[id];
        work.instance = instances_[batch.slot].instance.get();
        work.batch_id = id;
        work.batch = batch.views;
      }
    }
    if (!work.expired.empty() || !work.cancelled.empty() || !work.expire.empty() ||
        work.instance != nullptr) {
      stats_->SetQueueDepth(queue_.size());
      return work;
    }
    if (auto deadline = queue_.EarliestDeadline()) wake = std::min(wake, *deadline);
    wake = std::min(wake, running_deadlines_.Earliest());
    dispatcher_wake_ = wake;
    if (wake == TimePoint::max()) {
      cv_.Wait(&mu_);
    } else {
      cv_.WaitFor(&mu_, std::max(Duration(0), wake - now));
    }
    dispatcher_wake_ = TimePoint::min();
  }
}

uint64_t ModelScheduler::TryCutBatch(TimePoint now, TimePoint* wake) {
  std::vector<InstanceLoad> loads(instances_.size());
  for (std::size_t i = 0; i < instances_.size(); ++i) {
    const InstanceSlot& slot = instances_[i];
    InstanceLoad& load = loads[i];
    load.pending_items = queue_.PendingItemsFor(static_cast<int>(i));
    load.outstanding_items = slot.outstanding_items;
    load.busy_remaining =
        slot.inflight == 0
            ? Duration(0)
            : std::max(Duration(0), slot.inflight_estimate - (now - slot.busy_since));
    load.service = &slot.service;
    // A retried (solo) request runs on an instance with nothing else in flight, and nothing
    // joins it there: if it is what kills its worker, it takes no other request down.
    load.free = slot.inflight < options_.max_inflight_batches && load.pending_items > 0 &&
                slot.instance->available() && slot.drained.empty() && !slot.solo_inflight &&
                (slot.inflight == 0 || !queue_.HeadIsSolo(static_cast<int>(i)));
    // A busy instance takes its next batch only once its work in flight is about to finish: cut
    // earlier, the batch would just wait in the instance, smaller than it could have grown.
    Duration lead = PipelineLead(slot.inflight_estimate);
    if (load.free && load.busy_remaining > lead) {
      load.free = false;
      *wake = std::min(*wake, now + (load.busy_remaining - lead));
    }
  }
  int64_t max_batch = std::max<int64_t>(1, options_.batch_policy.max_batch_size);
  int picked = picker_->Pick(loads, std::min(queue_.pending_items(), max_batch));
  if (picked < 0) return 0;
  auto index = static_cast<std::size_t>(picked);
  BatchDecision decision = DecideBatch(options_.batch_policy, loads[index].pending_items,
                                       queue_.HeadEnqueueTime(picked), now);
  if (!decision.cut) {
    *wake = std::min(*wake, decision.wait_until);
    return 0;
  }
  uint64_t id = next_batch_id_++;
  InflightBatch& batch = inflight_[id];
  batch.requests = queue_.TakeBatch(decision.max_items, picked);
  batch.slot = index;
  batch.dispatched = now;
  for (auto& entry : batch.requests) {
    batch.views.push_back(entry.request.get());
    batch.items += entry.items;
    if (entry.client_deadline != TimePoint::max()) {
      running_deadlines_.Add(id, entry.client_deadline, entry.request->cancel);
      *wake = std::min(*wake, entry.client_deadline);  // the dispatcher watches it
    }
  }
  InstanceSlot& slot = instances_[index];
  batch.solo = !batch.requests.empty() && batch.requests.front().solo;
  if (batch.solo) slot.solo_inflight = true;
  batch.estimate = slot.service.Estimate(batch.items);
  if (slot.inflight == 0) slot.busy_since = now;
  ++slot.inflight;
  slot.outstanding_items += batch.items;
  slot.inflight_estimate += batch.estimate;
  stats_->AddInflight(static_cast<int64_t>(batch.requests.size()));
  stats_->AddInstanceInflight(index, 1);
  return id;
}

void ModelScheduler::SetDrained(std::size_t index, std::string reason) {
  {
    MutexLock lock(&mu_);
    InstanceSlot& slot = instances_[index];
    if (slot.drained == reason) return;
    slot.drained = std::move(reason);
    if (!slot.drained.empty()) queue_.Unbind(static_cast<int>(index));
  }
  DispatchNow();  // its bound requests may go elsewhere now, or it may take work again
}

bool ModelScheduler::AnyInstanceAvailable() const {
  MutexLock lock(&mu_);
  for (const InstanceSlot& slot : instances_) {
    if (slot.instance->available() && slot.drained.empty()) return true;
  }
  return false;
}

std::string ModelScheduler::UnavailableReason() const {
  std::vector<std::string> drained;  // distinct reasons, in instance order
  bool down = false;                 // some instance is not drained but unavailable
  {
    MutexLock lock(&mu_);
    for (const InstanceSlot& slot : instances_) {
      if (!slot.drained.empty()) {
        if (std::find(drained.begin(), drained.end(), slot.drained) == drained.end()) {
          drained.push_back(slot.drained);
        }
      } else if (slot.instance->available()) {
        return "";
      } else {
        down = true;
      }
    }
  }
  if (drained.empty()) {
    return "no instance is available (their workers are restarting or failed)";
  }
  return fmt::format("no instance is available (drained: {}{})", fmt::join(drained, "; "),
                     down ? "; the others' workers are restarting or failed" : "");
}

SchedulerSnapshot ModelScheduler::Snapshot() const {
  SchedulerSnapshot snapshot;
  MutexLock lock(&mu_);
  for (const InstanceSlot& slot : instances_) {
    snapshot.instances.push_back({.name = slot.instance->name(),
                                  .inflight_batches = slot.inflight,
                                  .outstanding_items = slot.outstanding_items,
                                  .batches = slot.batches,
                                  .items = slot.items,
                                  .average_batch_time = slot.service.Average(),
                                  .health = slot.instance->Health(),
                                  .drained = slot.drained});
  }
  snapshot.queue_depth_by_priority = queue_.DepthByLevel();
  TimePoint head = queue_.HeadEnqueueTime();
  if (head != TimePoint::max()) snapshot.oldest_wait = clock_->Now() - head;
  snapshot.queue_max_size = queue_.max_size();
  return snapshot;
}

void ModelScheduler::Answer(std::vector<QueuedRequest> entries, const Status& status,
                            TimePoint now) {
  for (auto& entry : entries) {
    if (entry.request->cancel) entry.request->cancel->SetNotifier(nullptr);
    stats_->RecordDropped(status.code(), now - entry.enqueue_time);
    entry.done(status);
  }
}

void ModelScheduler::OnInstanceEvent(std::size_t index, InstanceEvent event) {
  switch (event) {
    case InstanceEvent::kRestarted:
      return stats_->RecordInstanceRestart(index);
    case InstanceEvent::kAvailable:
      return DispatchNow();
    case InstanceEvent::kUnavailable:
      return;
  }
}

std::string_view ModelScheduler::NoRetryReason(const QueuedRequest& entry) const {
  if (entry.attempts > 0) return " (already retried once)";
  if (!options_.retry_lost) return " (not run again: the model is not idempotent)";
  if (entry.request->partial && entry.request->partial->any_sent()) {
    return " (not run again: its client has had partial responses)";
  }
  return "";
}

bool ModelScheduler::Retry(QueuedRequest& entry) {
  if (!NoRetryReason(entry).empty()) return false;
  std::shared_ptr<CancelToken> cancel = entry.request->cancel;
  if (cancel) cancel->SetNotifier([this] { Poke(); });
  {
    MutexLock lock(&mu_);
    if (!stopping_) {
      ++entry.attempts;
      entry.solo = true;
      entry.instance = -1;
      queue_.PushFront(std::move(entry));
      stats_->SetQueueDepth(queue_.size());
      stats_->RecordRetry();
      return true;
    }
  }
  if (cancel) cancel->SetNotifier(nullptr);
  return false;
}

void ModelScheduler::OnBatchDone(uint64_t batch_id, std::vector<RequestOutputs> outputs) {
  InflightBatch batch;
  TimePoint end = clock_->Now();
  TimePoint exec_start;
  {
    MutexLock lock(&mu_);
    auto node = inflight_.extract(batch_id);
    batch = std::move(node.mapped());
    running_deadlines_.RemoveBatch(batch_id);
    InstanceSlot& slot = instances_[batch.slot];
    // An instance runs its batches one after another: this one started when it was
    // dispatched or when the previous one finished, whichever was later.
    exec_start = std::max(batch.dispatched, slot.last_completion);
    slot.service.Record(batch.items, end - exec_start);
    slot.last_completion = end;
    slot.busy_since = end;
    --slot.inflight;
    slot.outstanding_items -= batch.items;
    slot.inflight_estimate -= batch.estimate;
    ++slot.batches;
    slot.items += static_cast<uint64_t>(batch.items);
    if (batch.solo) slot.solo_inflight = false;
    // The dispatcher waits for the last batch to stop; Drain for the last batch and request.
    if (stopping_ || draining_) {
      cv_.SignalAll();
      drain_cv_.SignalAll();
    }
  }
  // Requests whose instance was lost go back first (in their order), so the freed slot, which
  // takes the next batch from this thread before the answers go out, takes them first.
  std::vector<bool> retried(batch.requests.size(), false);
  for (std::size_t i = batch.requests.size(); i-- > 0;) {
    if (i < outputs.size() && !outputs[i].ok() &&
        outputs[i].status().code() == StatusCode::kAborted) {
      retried[i] = Retry(batch.requests[i]);
    }
  }
  DispatchNow();
  Duration compute = end - exec_start;
  stats_->RecordBatch(batch.items, compute);
  stats_->RecordInstanceBatch(batch.slot, batch.items, compute);
  stats_->AddInstanceInflight(batch.slot, -1);
  stats_->AddInflight(-static_cast<int64_t>(batch.requests.size()));
  for (std::size_t i = 0; i < batch.requests.size(); ++i) {
    if (retried[i]) continue;
    QueuedRequest& entry = batch.requests[i];
    if (entry.request->cancel) entry.request->cancel->SetNotifier(nullptr);
    Duration queued = exec_start - entry.enqueue_time;
    StatusOr<std::vector<Tensor>> selected =
        i < outputs.size() ? std::move(outputs[i])
                           : StatusOr<std::vector<Tensor>>(Internal("the backend lost a request"));
    if (!selected.ok() && selected.status().code() == StatusCode::kAborted) {
      selected = Internal(selected.status().message() + std::string(NoRetryReason(entry)));
    }
    if (!selected.ok() && entry.request->cancel && entry.request->cancel->expired()) {
      selected = DeadlineExceeded("the request's timeout passed while it executed: " +
                                  selected.status().message());
    }
    if (selected.ok()) selected = SelectOutputs(*entry.request, std::move(selected).value());
    stats_->RecordCompleted(selected.ok(), entry.items, queued, compute);
    if (!selected.ok()) {
      entry.done(selected.status());
      continue;
    }
    InferResponse response;
    response.model_name = entry.request->model_name;
    response.model_version = options_.model_version;
    response.id = entry.request->id;
    response.outputs = std::move(selected).value();
    response.timings = {.queue_ns = queued.count(), .compute_ns = compute.count()};
    entry.done(std::move(response));
  }
}

}  // namespace switchyard
