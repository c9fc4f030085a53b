#pragma once
// The server's own account of where request time went, from GET /v2/models/{m}/stats (the
// KServe v2 / Triton statistics extension). The load generator reads it before and after a
// measurement and reports the per-request difference.

#include <cstdint>
#include <string_view>

#include "switchyard/statistics.h"
#include "switchyard/status.h"

namespace switchyard::bench {

// The cumulative counters of one model, summed over its versions.
struct StatsSnapshot {
  uint64_t inference_count = 0;  // items
  uint64_t execution_count = 0;  // batches
  DurationStat success;
  DurationStat queue;
  DurationStat compute_infer;
};

// Parses a statistics document ({"model_stats":[...]}) and sums the entries named `model`.
// InvalidArgument if the JSON is malformed, a counter is missing, or no entry names the model.
StatusOr<StatsSnapshot> ParseModelStats(std::string_view json, std::string_view model);

// Per-request averages over the interval between two snapshots.
struct ServerSplit {
  uint64_t requests = 0;        // successful requests in the interval
  uint64_t items = 0;           // batch items inferred in the interval
  uint64_t executions = 0;      // batches executed in the interval
  double queue_us = 0;          // mean queue time per request
  double compute_infer_us = 0;  // mean execute time per request (the backend's own time)
};

// `after` minus `before`; a counter that went backwards (the model was reloaded) counts as 0.
ServerSplit StatsDelta(const StatsSnapshot& before, const StatsSnapshot& after);

}  // namespace switchyard::bench
