#pragma once
// A bounded queue of requests waiting for an instance: priority levels, FIFO within a level,
// per-request deadlines. Not thread-safe: ModelScheduler guards it with its mutex. Pure logic,
// tested with a fake clock (tests/unit/scheduler/request_queue_test.cc).

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "switchyard/clock.h"
#include "switchyard/infer.h"
#include "switchyard/status.h"

namespace switchyard {

struct QueuedRequest {
  std::unique_ptr<InferRequest> request;
  InferCallback done;
  TimePoint enqueue_time;
  TimePoint deadline = TimePoint::max();  // max: no deadline
  // The client's own deadline (InferRequest::timeout_us from arrival; max: none). Once the
  // request executes, the scheduler expires its CancelToken when this passes.
  TimePoint client_deadline = TimePoint::max();
  int64_t items = 1;  // batch items this request contributes
  int level = 0;      // 0 is the highest priority level
  int instance = -1;  // the instance it is bound to (round_robin routing); -1: any instance
  int attempts = 0;   // executions that were lost with their instance (see ModelScheduler)
  // A request being retried forms a batch alone: if it is what killed its instance, it takes
  // down no other request the second time.
  bool solo = false;
};

class RequestQueue {
 public:
  // REQUIRES: max_size >= 1, priority_levels >= 1.
  RequestQueue(int max_size, int priority_levels);

  // Accepts `entry` (moving from it) or refuses it, leaving `entry` untouched so the caller can
  // answer it: ResourceExhausted when `max_size` requests already wait.
  Status Push(QueuedRequest&& entry);

  // Puts an already admitted request (a retry) at the front of its level, whatever the size.
  void PushFront(QueuedRequest&& entry);

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  int64_t pending_items() const { return pending_items_; }
  // Items waiting that `instance` may take (those bound to it or to none).
  int64_t PendingItemsFor(int instance) const;
  int max_size() const { return max_size_; }
  // Requests waiting at each level (index 0 = highest priority).
  std::vector<std::size_t> DepthByLevel() const;

  // Whether the request `instance` would take first (-1: any instance) is a solo one.
  bool HeadIsSolo(int instance = -1) const;
  // Enqueue time of the request `instance` would take first (-1: any instance);
  // TimePoint::max() if there is none.
  TimePoint HeadEnqueueTime(int instance = -1) const;
  // The earliest deadline of any waiting request, if any has one.
  std::optional<TimePoint> EarliestDeadline() const;

  // Removes and returns every request whose deadline is <= now.
  std::vector<QueuedRequest> TakeExpired(TimePoint now);
  // Removes and returns every request whose cancel token is set.
  std::vector<QueuedRequest> TakeCancelled();
  // Removes and returns everything (shutdown).
  std::vector<QueuedRequest> TakeAll();
  // Unbinds every request bound to `instance`, so that any instance may take it; keeps its
  // place in the queue.
  void Unbind(int instance);

  // Takes requests that `instance` may take (-1: any), highest level first, FIFO within a
  // level, while their items fit in `max_items`; stops at the first request that does not fit
  // (no overtaking), but always takes at least one request if there is one. A `solo` request
  // is taken alone: it ends the batch before it, or is the whole batch.
  std::vector<QueuedRequest> TakeBatch(int64_t max_items, int instance = -1);

 private:
  template <typename Pred>
  std::vector<QueuedRequest> TakeIf(Pred pred);
  // The request `instance` would take first, or null.
  const QueuedRequest* Head(int instance) const;
  static bool Eligible(const QueuedRequest& entry, int instance) {
    return instance < 0 || entry.instance < 0 || entry.instance == instance;
  }

  int max_size_;
  std::vector<std::deque<QueuedRequest>> levels_;
  std::size_t size_ = 0;
  int64_t pending_items_ = 0;
};

}  // namespace switchyard
