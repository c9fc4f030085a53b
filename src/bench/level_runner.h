#pragma once
// One concurrency level of a benchmark: start the clients, warm up, then measure windows until
// two consecutive ones agree (or max_windows), read the server's statistics around the reported
// windows, stop. Shows a progress line on stderr while it runs.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bench/arrival.h"
#include "bench/bench_options.h"
#include "bench/http_client.h"
#include "bench/load_recorder.h"
#include "bench/model_metadata.h"
#include "bench/server_stats.h"
#include "switchyard/clock.h"
#include "switchyard/status.h"

namespace switchyard::bench {

struct LevelConfig {
  int concurrency = 1;  // connections
  int threads = 1;      // client threads
  ServerAddress address;
  std::string target;                  // the infer path
  std::vector<TensorMetadata> inputs;  // concrete shapes
  BodyFormat format = BodyFormat::kJson;
  uint64_t seed = 1;  // connection i sends data from seed + i
  int64_t items_per_request = 1;
  Duration warmup{};
  Duration window{};
  double stability = 0.10;
  int max_windows = 6;
  ArrivalProcess* arrivals = nullptr;  // not owned
  // Reads the model's cumulative statistics; nullopt when the server offers none.
  std::function<std::optional<StatsSnapshot>()> read_stats;
};

struct LevelResult {
  int concurrency = 0;
  bool stable = false;
  std::vector<double> window_rps;  // successful requests/s of every measured window, in order
  // The reported figures cover the last two windows (the stable pair), or the only one.
  double reported_s = 0;
  WindowCounters counters;
  std::optional<ServerSplit> server;  // over the reported windows, when the server has /stats

  double RequestsPerSecond() const;
  double ItemsPerSecond() const;
};

// Fails only if the clients cannot start (the address does not resolve); errors of individual
// requests are counted in the result.
// REQUIRES: config.arrivals and config.read_stats set, concurrency >= 1, threads >= 1
StatusOr<LevelResult> RunLevel(const LevelConfig& config);

}  // namespace switchyard::bench
