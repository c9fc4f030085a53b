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

// An answer's status as the table names it: "HTTP 429", "gRPC RESOURCE_EXHAUSTED", "gRPC stream
// error_message" (kGrpcStreamError).
std::string StatusName(Protocol protocol, unsigned status);
// The same as a JSON key: "429", "RESOURCE_EXHAUSTED", "STREAM_ERROR" ("CODE_UNKNOWN" beyond 16).
std::string StatusKey(Protocol protocol, unsigned status);

// "concurrency 64", "rate 2800/s" or "schedule": how a level is named in the table.
std::string LevelName(const LevelResult& level);

// One row per level. Closed loop: concurrency, req/s, items/s; open loop: offered req/s, sent/s,
// successful req/s, late. Then p50/p90/p99/max latency (µs, successful requests, from the due
// time), the server's queue and compute µs per request ("-" without /stats), errors, windows
// and stability. Then a line per level that had errors, by kind; for open loop, a line per
// level accounting for every request (sent, answered, unanswered, never sent, send lag, send-to-
// answer time by status); and a table per level of requests per instance ("-" without
// /v2/status).
std::string FormatTable(const RunInfo& info, const std::vector<LevelResult>& levels);

// {"url","model","format":"json"|"binary"|"shm"|"raw"|"typed" (the last two: gRPC contents),
//  "batch_size","threads","seed","warmup_s","window_ms","stability","max_windows","items_per_request","mode":"closed_loop"|"rate"|"schedule","arrival",
//  "connections","poll_us","protocol":"http"|"grpc","grpc_mode":"unary"|"stream"|null,
//  "levels":[{"concurrency","offered_rps","stable","window_rps":[...],
//  "measured_s","requests","items","throughput_rps","items_per_s","sent","sent_rps","late",
//  "latency_us":{"p50","p90","p99","max","mean"},"send_lag_us":{"p50","p99","max"},
//  "errors":{"total","connection","first_connection_error","by_status":{"429":n},
//            "first_message_by_status":{"RESOURCE_EXHAUSTED":"..."},   (StatusKey keys)
//            "latency_us_by_status":{"429":{"p50","p90","p99","max"}},
//            "service_us_by_status":{"200":{...},"429":{...}}},   (send to answer)
//  "totals":{"sent","late","answered","successes","connection_errors","unanswered","unsent"},
//  "server":{"requests","items","executions","queue_us","compute_infer_us"}|null,
//  "instances":[{"name","device","batches","items"}]|null}]}
// Figures cover the reported windows; "totals" covers the whole level, warm-up included.
std::string ResultsJson(const RunInfo& info, const std::vector<LevelResult>& levels);

}  // namespace switchyard::bench
