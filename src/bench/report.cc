#include "bench/report.h"

#include "bench/json_text.h"
#include "fmt/format.h"

namespace switchyard::bench {
namespace {

std::string_view FormatName(BodyFormat format) {
  return format == BodyFormat::kJson ? "json" : "binary";
}

double Us(uint64_t ns) { return static_cast<double>(ns) / 1e3; }

std::string ErrorSummary(const WindowCounters& counters) {
  std::string text;
  for (const auto& [status, count] : counters.http_errors) {
    text += fmt::format("{}HTTP {} x {}", text.empty() ? "" : ", ", status, count);
  }
  if (counters.connection_errors > 0) {
    text += fmt::format("{}connection x {} (first: {})", text.empty() ? "" : ", ",
                        counters.connection_errors, counters.first_connection_error);
  }
  return text;
}

}  // namespace

std::string FormatTable(const RunInfo& info, const std::vector<LevelResult>& levels) {
  const BenchOptions& options = info.options;
  std::string out =
      fmt::format("model {} at {}, {} bodies, batch {}, {} client threads, windows of {} ms\n",
                  options.model, options.url, FormatName(options.format), info.items_per_request,
                  info.threads, options.window_ms);
  out += fmt::format("{:>11} {:>11} {:>11} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10} {:>8}  {}\n",
                     "concurrency", "req/s", "items/s", "p50 us", "p90 us", "p99 us", "max us",
                     "queue us", "compute us", "errors", "windows");
  for (const LevelResult& level : levels) {
    const LatencyHistogram& latency = level.counters.latency_ns;
    std::string queue = "-";
    std::string compute = "-";
    if (level.server) {
      queue = fmt::format("{:.1f}", level.server->queue_us);
      compute = fmt::format("{:.1f}", level.server->compute_infer_us);
    }
    out += fmt::format(
        "{:>11} {:>11.1f} {:>11.1f} {:>9.0f} {:>9.0f} {:>9.0f} {:>9.0f} {:>9} {:>10} {:>8}  {} "
        "{}\n",
        level.concurrency, level.RequestsPerSecond(), level.ItemsPerSecond(),
        Us(latency.Percentile(0.50)), Us(latency.Percentile(0.90)), Us(latency.Percentile(0.99)),
        Us(latency.max()), queue, compute, level.counters.errors(), level.window_rps.size(),
        level.stable ? "stable" : "UNSTABLE");
  }
  for (const LevelResult& level : levels) {
    if (level.counters.errors() > 0) {
      out += fmt::format("errors at concurrency {}: {}\n", level.concurrency,
                         ErrorSummary(level.counters));
    }
  }
  return out;
}

std::string ResultsJson(const RunInfo& info, const std::vector<LevelResult>& levels) {
  const BenchOptions& options = info.options;
  std::string out =
      "{\"url\":" + JsonString(options.url) + ",\"model\":" + JsonString(options.model);
  out += fmt::format(
      ",\"format\":\"{}\",\"batch_size\":{},\"threads\":{},\"seed\":{},\"warmup_s\":{},"
      "\"window_ms\":{},\"stability\":{},\"max_windows\":{},\"items_per_request\":{},"
      "\"levels\":[",
      FormatName(options.format), options.batch_size, info.threads, options.seed, options.warmup_s,
      options.window_ms, options.stability, options.max_windows, info.items_per_request);
  for (std::size_t i = 0; i < levels.size(); ++i) {
    const LevelResult& level = levels[i];
    const WindowCounters& counters = level.counters;
    const LatencyHistogram& latency = counters.latency_ns;
    if (i > 0) out += ',';
    out += fmt::format(
        "{{\"concurrency\":{},\"stable\":{},\"window_rps\":[{:.3f}],\"measured_s\":{:.6f},"
        "\"requests\":{},\"items\":{},\"throughput_rps\":{:.3f},\"items_per_s\":{:.3f},"
        "\"latency_us\":{{\"p50\":{:.3f},\"p90\":{:.3f},\"p99\":{:.3f},\"max\":{:.3f},"
        "\"mean\":{:.3f}}},",
        level.concurrency, level.stable, fmt::join(level.window_rps, ","), level.reported_s,
        counters.successes, counters.items, level.RequestsPerSecond(), level.ItemsPerSecond(),
        Us(latency.Percentile(0.50)), Us(latency.Percentile(0.90)), Us(latency.Percentile(0.99)),
        Us(latency.max()), latency.Mean() / 1e3);
    out += fmt::format("\"errors\":{{\"total\":{},\"connection\":{},\"first_connection_error\":",
                       counters.errors(), counters.connection_errors);
    AppendJsonString(out, counters.first_connection_error);
    out += ",\"by_status\":{";
    bool first = true;
    for (const auto& [status, count] : counters.http_errors) {
      out += fmt::format("{}\"{}\":{}", first ? "" : ",", status, count);
      first = false;
    }
    out += "}},\"server\":";
    if (level.server) {
      out += fmt::format(
          "{{\"requests\":{},\"items\":{},\"executions\":{},\"queue_us\":{:.3f},"
          "\"compute_infer_us\":{:.3f}}}",
          level.server->requests, level.server->items, level.server->executions,
          level.server->queue_us, level.server->compute_infer_us);
    } else {
      out += "null";
    }
    out += '}';
  }
  out += "]}\n";
  return out;
}

}  // namespace switchyard::bench
