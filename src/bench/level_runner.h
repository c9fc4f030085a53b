#pragma once
// One level of a benchmark (a concurrency in closed loop, a request rate in open loop): start the
// clients, warm up, then measure windows until two consecutive ones agree (or max_windows), read
// the server's statistics and instance counters around the reported windows, stop. A replayed
// schedule instead runs once to its end as a single window. Shows a progress line on stderr.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bench/arrival.h"
#include "bench/bench_options.h"
#include "bench/http_client.h"
#include "bench/instance_stats.h"
#include "bench/load_recorder.h"
#include "bench/model_metadata.h"
#include "bench/server_stats.h"
#include "switchyard/clock.h"
#include "switchyard/status.h"

namespace switchyard::bench {

struct LevelConfig {
  std::string label;       // names the level in progress lines, e.g. "concurrency 64"
  int concurrency = 1;     // connections
  double offered_rps = 0;  // open loop: the request rate asked for; 0: closed loop
  int threads = 1;         // client threads
  Duration poll{};         // client threads poll this long before they sleep
  Protocol protocol = Protocol::kHttp;
  ServerAddress address;     // kHttp: the server
  std::string target;        // kHttp: the infer path
  std::string grpc_address;  // kGrpc: HOST:PORT
  std::string model;         // kGrpc: the model the requests name
  GrpcMode grpc_mode = GrpcMode::kUnary;
  GrpcContents grpc_contents = GrpcContents::kRaw;
  int grpc_channels = 0;                  // kGrpc: connections the clients share; 0: one per client
  std::vector<TensorMetadata> inputs;     // concrete shapes
  BodyFormat format = BodyFormat::kJson;  // kHttp
  // kSharedMemory: the registered region that holds the inputs (built from `seed`).
  std::string shared_memory_region;
  // Connection i sends data from seed + i (kSharedMemory: every connection names the same
  // bytes, those of `seed`).
  uint64_t seed = 1;
  int64_t items_per_request = 1;
  Duration warmup{};
  Duration window{};
  double stability = 0.10;
  int max_windows = 6;
  // Run the arrivals to their end (a replayed schedule) as one window, without warm-up, but
  // at most replay_limit; warmup, window, stability and max_windows are not used.
  bool replay = false;
  Duration replay_limit{};
  Duration stop_grace = std::chrono::seconds(1);  // waiting for answers at the end
  ArrivalFactory arrivals;
  // Reads the model's cumulative statistics; nullopt when the server offers none.
  std::function<std::optional<StatsSnapshot>()> read_stats;
  // Reads the model's instance counters; nullopt when the server offers none.
  std::function<std::optional<std::vector<InstanceCounters>>()> read_instances;
};

struct LevelResult {
  int concurrency = 0;     // connections
  double offered_rps = 0;  // open loop: the rate asked for; 0: closed loop
  bool replay = false;     // a replayed schedule (one window, stability not judged)
  bool stable = false;
  std::vector<double> window_rps;  // successful requests/s of every measured window, in order
  // The reported figures cover the last two windows (the stable pair), or the only one.
  double reported_s = 0;
  WindowCounters counters;
  std::optional<ServerSplit> server;  // over the reported windows, when the server has /stats
  // Requests and batches per instance over the reported windows, when the server has /v2/status.
  std::optional<std::vector<InstanceCounters>> instances;

  // The whole level, warm-up included, for accounting: what was sent and what came back.
  ProgressTotals totals;
  int64_t unsent = 0;  // arrivals still waiting for a connection when the level stopped
  // Sent, but neither answered nor failed before the level stopped (abandoned).
  uint64_t Unanswered() const;

  double RequestsPerSecond() const;
  // Requests sent per second over the reported windows.
  double SentPerSecond() const;
  double ItemsPerSecond() const;
};

// Fails only if the clients cannot start (the address does not resolve, a gRPC request cannot
// be built, gRPC is not built in); errors of individual requests are counted in the result.
// REQUIRES: config.arrivals, read_stats and read_instances set, concurrency >= 1, threads >= 1
StatusOr<LevelResult> RunLevel(const LevelConfig& config);

}  // namespace switchyard::bench
