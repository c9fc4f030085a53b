#pragma once
// Per-model statistics in the shape of the KServe v2 / Triton statistics extension.

#include <cstdint>
#include <string>
#include <vector>

namespace switchyard {

struct DurationStat {
  uint64_t count = 0;
  uint64_t ns = 0;
};

struct InferStatistics {
  DurationStat success;         // whole server time of successful requests
  DurationStat fail;            // whole server time of failed requests
  DurationStat queue;           // time waiting in the queue
  DurationStat compute_input;   // time preparing inputs
  DurationStat compute_infer;   // time executing
  DurationStat compute_output;  // time producing outputs
};

struct BatchStatistics {
  uint64_t batch_size = 0;
  DurationStat compute_input;
  DurationStat compute_infer;
  DurationStat compute_output;
};

struct ModelStatistics {
  std::string name;
  std::string version;
  uint64_t last_inference_ms = 0;  // ms since the Unix epoch of the last completed request
  uint64_t inference_count = 0;    // items inferred (a batch-4 request counts 4)
  uint64_t execution_count = 0;    // batches executed
  InferStatistics inference_stats;
  std::vector<BatchStatistics> batch_stats;  // ascending batch_size
};

}  // namespace switchyard
