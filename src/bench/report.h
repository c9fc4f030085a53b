#pragma once
// The results of a benchmark run: a table for people (stdout) and a JSON document for scripts
// (--json-out). Pure functions of the results.

#include <string>
#include <vector>

#include "bench/bench_options.h"
#include "bench/level_runner.h"

namespace switchyard::bench {

// Everything that describes a run besides its levels.
struct RunInfo {
  BenchOptions options;
  int threads = 1;  // client threads actually used
  int64_t items_per_request = 1;
};

// One row per level: concurrency, req/s, items/s, p50/p90/p99/max latency (µs), the server's
// queue and compute µs per request ("-" without /stats), errors, windows and stability; then a
// line per level that had errors, by kind.
std::string FormatTable(const RunInfo& info, const std::vector<LevelResult>& levels);

// {"url","model","format","batch_size","threads","seed","warmup_s","window_ms","stability",
//  "max_windows","items_per_request","levels":[{"concurrency","stable","window_rps":[...],
//  "measured_s","requests","items","throughput_rps","items_per_s",
//  "latency_us":{"p50","p90","p99","max","mean"},
//  "errors":{"total","connection","first_connection_error","by_status":{"429":n}},
//  "server":{"requests","items","executions","queue_us","compute_infer_us"}|null}]}
std::string ResultsJson(const RunInfo& info, const std::vector<LevelResult>& levels);

}  // namespace switchyard::bench
