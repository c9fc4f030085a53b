#include "bench/level_runner.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <thread>

#include "bench/client_pool.h"
#include "bench/grpc_transport.h"
#include "bench/request_builder.h"
#include "bench/window_policy.h"
#include "fmt/format.h"

namespace switchyard::bench {
namespace {

using Seconds = std::chrono::duration<double>;

TimePoint Now() { return SteadyClock::Get()->Now(); }

// The progress line on stderr: rewritten in place on a terminal, one line per update otherwise.
class ProgressLine {
 public:
  ProgressLine(const LoadPool& pool, std::string label)
      : pool_(pool),
        label_(std::move(label)),
        tty_(isatty(STDERR_FILENO) == 1),
        start_(Now()),
        last_time_(start_) {}

  // Sleeps until `until`, updating the line every kInterval (terminal) or kLogInterval.
  void WaitUntil(TimePoint until, const std::string& phase) {
    while (true) {
      TimePoint now = Now();
      if (now >= until) return;
      TimePoint next_print = last_time_ + (tty_ ? kInterval : kLogInterval);
      if (now >= next_print) {
        Print(phase, now);
        continue;
      }
      std::this_thread::sleep_until(std::min(until, next_print));
    }
  }

  // Like WaitUntil, but returns as soon as `done()` (checked every kPoll) is true.
  void WaitUntilDone(TimePoint until, const std::string& phase, const std::function<bool()>& done) {
    while (!done() && Now() < until) WaitUntil(std::min(until, Now() + kPoll), phase);
  }

  void Clear() {
    if (tty_) std::fputs("\r\033[K", stderr);
  }

 private:
  static constexpr auto kInterval = std::chrono::milliseconds(500);
  static constexpr auto kLogInterval = std::chrono::seconds(5);
  static constexpr auto kPoll = std::chrono::milliseconds(10);

  void Print(const std::string& phase, TimePoint now) {
    ProgressTotals totals = pool_.Totals();
    double dt = Seconds(now - last_time_).count();
    double rate = static_cast<double>(totals.successes - last_.successes) / dt;
    std::string line = fmt::format(
        "[{}] {:<10} {:6.1f}s {:>11.1f} req/s   errors {}   late {}   waiting {}", label_, phase,
        Seconds(now - start_).count(), rate, totals.errors, totals.late, pool_.Backlog());
    if (tty_) {
      fmt::print(stderr, "\r{}\033[K", line);
    } else {
      fmt::print(stderr, "{}\n", line);
    }
    std::fflush(stderr);
    last_ = totals;
    last_time_ = now;
  }

  const LoadPool& pool_;
  const std::string label_;
  const bool tty_;
  const TimePoint start_;
  TimePoint last_time_;
  ProgressTotals last_;
};

struct Window {
  WindowCounters counters;
  double seconds = 0;
  std::optional<StatsSnapshot> stats_at_end;
  std::optional<std::vector<InstanceCounters>> instances_at_end;
};

}  // namespace

uint64_t LevelResult::Unanswered() const {
  uint64_t done = totals.answered + totals.connection_errors;
  return totals.sent > done ? totals.sent - done : 0;
}

double LevelResult::SentPerSecond() const {
  return reported_s > 0 ? static_cast<double>(counters.sent) / reported_s : 0;
}

double LevelResult::RequestsPerSecond() const {
  return reported_s > 0 ? static_cast<double>(counters.successes) / reported_s : 0;
}

double LevelResult::ItemsPerSecond() const {
  return reported_s > 0 ? static_cast<double>(counters.items) / reported_s : 0;
}

namespace {

StatusOr<std::unique_ptr<LoadPool>> StartGrpcClients(const LevelConfig& config) {
  GrpcPoolConfig pool_config;
  pool_config.address = config.grpc_address;
  pool_config.model = config.model;
  pool_config.mode = config.grpc_mode;
  pool_config.contents = config.grpc_contents;
  pool_config.inputs = config.inputs;
  pool_config.seed = config.seed;
  pool_config.clients = config.concurrency;
  pool_config.channels = config.grpc_channels;
  pool_config.items_per_request = config.items_per_request;
  pool_config.threads = config.threads;
  pool_config.poll = config.poll;
  pool_config.stop_grace = config.stop_grace;
  pool_config.arrivals = config.arrivals;
  return StartGrpcPool(std::move(pool_config));
}

StatusOr<std::unique_ptr<LoadPool>> StartHttpClients(const LevelConfig& config) {
  PoolConfig pool_config;
  pool_config.address = config.address;
  pool_config.target = config.target;
  if (config.format == BodyFormat::kSharedMemory) {
    // Every connection names the same bytes, already in the region: one body, without them.
    PreparedBody body =
        BuildInferBody(config.inputs, config.format, config.seed, config.shared_memory_region);
    body.shared_bytes = {};
    pool_config.bodies.assign(static_cast<std::size_t>(config.concurrency), body);
  } else {
    for (int i = 0; i < config.concurrency; ++i) {
      pool_config.bodies.push_back(
          BuildInferBody(config.inputs, config.format, config.seed + static_cast<uint64_t>(i)));
    }
  }
  pool_config.items_per_request = config.items_per_request;
  pool_config.threads = config.threads;
  pool_config.poll = config.poll;
  pool_config.stop_grace = config.stop_grace;
  pool_config.arrivals = config.arrivals;
  ASSIGN_OR_RETURN(std::unique_ptr<ClientPool> pool, ClientPool::Start(std::move(pool_config)));
  return std::unique_ptr<LoadPool>(std::move(pool));
}

}  // namespace

StatusOr<LevelResult> RunLevel(const LevelConfig& config) {
  // Read before the clients start: a replay has no warm-up to absorb the reads.
  std::optional<StatsSnapshot> stats_at_start = config.read_stats();
  std::optional<std::vector<InstanceCounters>> instances_at_start = config.read_instances();
  ASSIGN_OR_RETURN(std::unique_ptr<LoadPool> pool, config.protocol == Protocol::kGrpc
                                                       ? StartGrpcClients(config)
                                                       : StartHttpClients(config));

  ProgressLine progress(*pool, config.label);
  TimePoint window_start = Now();
  if (!config.replay) {
    progress.WaitUntil(Now() + config.warmup, "warmup");
    pool->TakeWindow();  // discard the warm-up
    window_start = Now();
    stats_at_start = config.read_stats();
    instances_at_start = config.read_instances();
  }

  StabilityTracker tracker(config.stability, config.replay ? 1 : config.max_windows);
  std::vector<Window> windows;
  StabilityTracker::Decision decision = StabilityTracker::Decision::kContinue;
  while (decision == StabilityTracker::Decision::kContinue) {
    if (config.replay) {
      progress.WaitUntilDone(window_start + config.replay_limit, "replay",
                             [&pool] { return pool->Finished(); });
    } else {
      progress.WaitUntil(window_start + config.window,
                         fmt::format("window {}/{}", windows.size() + 1, config.max_windows));
    }
    Window window;
    window.counters = pool->TakeWindow();
    TimePoint window_end = Now();
    window.seconds = Seconds(window_end - window_start).count();
    window.stats_at_end = config.read_stats();
    window.instances_at_end = config.read_instances();
    decision = tracker.AddWindow(static_cast<double>(window.counters.successes) / window.seconds);
    windows.push_back(std::move(window));
    window_start = window_end;
  }
  pool->Stop();
  progress.Clear();

  LevelResult result;
  result.concurrency = config.concurrency;
  result.offered_rps = config.offered_rps;
  result.replay = config.replay;
  result.totals = pool->Totals();
  result.unsent = pool->Backlog();  // never sent now: the pool has stopped
  result.stable = decision == StabilityTracker::Decision::kStable;
  result.window_rps = tracker.throughputs();
  std::size_t first = windows.size() >= 2 ? windows.size() - 2 : 0;
  for (std::size_t i = first; i < windows.size(); ++i) {
    result.counters.Merge(windows[i].counters);
    result.reported_s += windows[i].seconds;
  }
  const std::optional<StatsSnapshot>& before =
      first == 0 ? stats_at_start : windows[first - 1].stats_at_end;
  const std::optional<StatsSnapshot>& after = windows.back().stats_at_end;
  if (before && after) result.server = StatsDelta(*before, *after);
  const auto& instances_before =
      first == 0 ? instances_at_start : windows[first - 1].instances_at_end;
  const auto& instances_after = windows.back().instances_at_end;
  if (instances_before && instances_after) {
    result.instances = InstanceDelta(*instances_before, *instances_after);
  }
  return result;
}

}  // namespace switchyard::bench
