#pragma once
// When to cut a batch and how big: the dynamic batcher's decision, as a pure function of the
// queue's state and the time, so it is tested with a fake clock.

#include <cstdint>
#include <vector>

#include "switchyard/clock.h"

namespace switchyard {

struct BatchPolicy {
  int64_t max_batch_size = 0;  // 0: the model does not batch; every batch is one request
  Duration max_queue_delay{0};
  std::vector<int64_t> preferred_batch_sizes;  // ascending
};

struct BatchDecision {
  bool cut = false;
  int64_t max_items = 0;                    // when cut: the most items the batch may take
  TimePoint wait_until = TimePoint::max();  // when not cut: decide again at this time
};

// How long before a busy instance's batches in flight are expected to finish it may take its
// next batch: kPipelineLeadFraction of their estimated time, and at least kMinPipelineLead.
// Early enough for the next batch to reach the instance before it idles; late enough that the
// batch takes in what arrived meanwhile. The floor is what waking the dispatcher to send a batch
// later costs: a batch due sooner than that goes at once, from the thread that cut it. Zero
// estimate (no measured service time yet): the lead is the floor, so the batch goes at once.
inline constexpr double kPipelineLeadFraction = 0.5;
inline constexpr Duration kMinPipelineLead = std::chrono::microseconds(200);
Duration PipelineLead(Duration inflight_estimate);

// Called when an instance can take a batch and `pending_items` > 0 items wait, the oldest since
// `head_enqueue_time`.
// - no batching: cut one request;
// - enough items for max_batch_size: cut a full batch;
// - preferred sizes: cut the largest preferred size the pending items reach;
// - the head has waited max_queue_delay: cut what there is;
// - otherwise wait until the head's delay expires.
BatchDecision DecideBatch(const BatchPolicy& policy, int64_t pending_items,
                          TimePoint head_enqueue_time, TimePoint now);

}  // namespace switchyard
