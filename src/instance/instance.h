#pragma once
// An instance is one copy of a model that executes batches: in process (a backend object on a
// thread of ours) or in a worker process over IPC. The scheduler owns the requests of a batch
// until the instance calls back; the instance only reads them.

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/mutex.h"
#include "switchyard/infer.h"
#include "switchyard/status.h"
#include "switchyard/tensor.h"

namespace switchyard {

// One RequestOutputs (switchyard/infer.h) per request, in the order of the batch. A request
// answered kAborted was lost with its instance (its worker died): the request itself may be fine
// and is worth one retry elsewhere.
using BatchDone = std::function<void(std::vector<RequestOutputs>)>;

// What an instance tells its scheduler about itself.
enum class InstanceEvent {
  kAvailable,    // it can take batches again (a restarted worker is ready)
  kUnavailable,  // it cannot take batches (its worker died and is restarting, or gave up)
  kRestarted,    // its worker was started anew (counted in metrics)
};

// Hears what an instance learns about the GPUs it runs on: `lost` true when its backend reported
// them unusable (SY_ERROR_DEVICE_LOST; `why` is the backend's message), false when a worker
// started on them after such a loss is ready (they work again). Called from any thread, never
// under a lock of the instance, before the batches lost with the device are answered.
using DeviceFaultListener = std::function<void(bool lost, const std::string& why)>;

// Where an instance keeps its DeviceFaultListener: set from any thread, called outside every
// lock (its own is a leaf, held only to copy the listener).
class DeviceFaultNotifier {
 public:
  void Set(DeviceFaultListener listener) EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    listener_ = std::move(listener);
  }
  // Calls the listener, if one is set.
  void Notify(bool lost, const std::string& why) const EXCLUDES(mu_) {
    DeviceFaultListener listener;
    {
      MutexLock lock(&mu_);
      listener = listener_;
    }
    if (listener) listener(lost, why);
  }

 private:
  mutable Mutex mu_;
  DeviceFaultListener listener_ GUARDED_BY(mu_);
};

// An instance's health for status pages.
struct InstanceHealth {
  std::string state = "ready";  // ready | restarting | failed
  int restarts = 0;             // workers started after the first
  std::string last_error;       // why it last went down, if it did
  long pid = 0;                 // its worker process; 0 in process or while none runs
  // Worker processes only: input bytes copied into shared-memory slots, and those the worker
  // read where the request bodies were received. Cumulative.
  uint64_t input_bytes_copied = 0;
  uint64_t input_bytes_in_place = 0;
  // Worker processes only: output bytes copied out of slots, and those the responses kept where
  // the worker wrote them (its output pool). Cumulative.
  uint64_t output_bytes_copied = 0;
  uint64_t output_bytes_in_place = 0;
  // Worker processes only: batches the worker answered and the time their backend execute took
  // there (the rest of a batch's compute time is the IPC and the server's side). Cumulative.
  uint64_t backend_batches = 0;
  uint64_t backend_execute_ns = 0;
};

// Thread-safety: every method may be called from any thread; Execute concurrently up to the
// instance's max_inflight_batches; `done` is called exactly once per Execute, from any thread.
class Instance {
 public:
  virtual ~Instance() = default;

  // A name unique within the model, e.g. "simple/0".
  virtual const std::string& name() const = 0;

  // Starts executing `requests` (each validated against the model config). The pointed-to
  // requests stay alive and unmodified until `done` has been called. Called only while
  // available(); one that races with the instance going down answers kAborted.
  virtual void Execute(std::span<InferRequest* const> requests, BatchDone done) = 0;

  // Whether the instance can take batches now. In-process instances always can.
  virtual bool available() const { return true; }
  virtual InstanceHealth Health() const { return {}; }
  // Registers who hears about InstanceEvents (replacing any earlier observer). Called before
  // the first Execute; events come from any thread, never under a lock of the instance.
  virtual void SetObserver(std::function<void(InstanceEvent)> /*observer*/) {}
  // Registers who hears about device faults (replacing any earlier listener). Called before the
  // first Execute. Instances without a device never call it.
  virtual void SetDeviceFaultListener(DeviceFaultListener /*listener*/) {}
};

}  // namespace switchyard
