#include "scheduler/batch_policy.h"

#include <algorithm>

namespace switchyard {

Duration PipelineLead(Duration inflight_estimate) {
  return std::max(kMinPipelineLead,
                  std::chrono::duration_cast<Duration>(inflight_estimate * kPipelineLeadFraction));
}

BatchDecision DecideBatch(const BatchPolicy& policy, int64_t pending_items,
                          TimePoint head_enqueue_time, TimePoint now) {
  if (policy.max_batch_size == 0) return {.cut = true, .max_items = 1};
  if (pending_items >= policy.max_batch_size) {
    return {.cut = true, .max_items = policy.max_batch_size};
  }
  for (auto it = policy.preferred_batch_sizes.rbegin(); it != policy.preferred_batch_sizes.rend();
       ++it) {
    if (pending_items >= *it) return {.cut = true, .max_items = *it};
  }
  TimePoint due = head_enqueue_time + policy.max_queue_delay;
  if (now >= due) return {.cut = true, .max_items = policy.max_batch_size};
  return {.cut = false, .max_items = 0, .wait_until = due};
}

}  // namespace switchyard
