#include "bench/report.h"

#include <iterator>

#include "fmt/format.h"
#include "switchyard/backend_sdk/json.h"

namespace switchyard::bench {
namespace {

std::string_view FormatName(BodyFormat format) {
  switch (format) {
    case BodyFormat::kJson:
      return "json";
    case BodyFormat::kBinary:
      return "binary";
    case BodyFormat::kSharedMemory:
      return "shm";
  }
  return "?";
}

std::string_view GrpcCodeName(unsigned code) {
  static constexpr std::string_view kNames[] = {"OK",
                                                "CANCELLED",
                                                "UNKNOWN",
                                                "INVALID_ARGUMENT",
                                                "DEADLINE_EXCEEDED",
                                                "NOT_FOUND",
                                                "ALREADY_EXISTS",
                                                "PERMISSION_DENIED",
                                                "RESOURCE_EXHAUSTED",
                                                "FAILED_PRECONDITION",
                                                "ABORTED",
                                                "OUT_OF_RANGE",
                                                "UNIMPLEMENTED",
                                                "INTERNAL",
                                                "UNAVAILABLE",
                                                "DATA_LOSS",
                                                "UNAUTHENTICATED"};
  if (code == kGrpcStreamError) return "STREAM_ERROR";
  return code < std::size(kNames) ? kNames[code] : "CODE_UNKNOWN";
}

// How the request bodies travel, in the table's first line and the JSON's "format".
std::string_view BodyName(const BenchOptions& options) {
  if (options.protocol == Protocol::kHttp) return FormatName(options.format);
  return options.grpc_contents == GrpcContents::kRaw ? "raw" : "typed";
}

std::string_view ModeName(LoadMode mode) {
  switch (mode) {
    case LoadMode::kClosedLoop:
      return "closed_loop";
    case LoadMode::kRate:
      return "rate";
    case LoadMode::kSchedule:
      return "schedule";
  }
  return "";
}

std::string_view ArrivalName(const BenchOptions& options) {
  if (options.mode == LoadMode::kClosedLoop) return "closed_loop";
  if (options.mode == LoadMode::kSchedule) return "schedule";
  return options.arrival == ArrivalKind::kConstant ? "constant" : "poisson";
}

double Us(uint64_t ns) { return static_cast<double>(ns) / 1e3; }

int64_t PollUs(const BenchOptions& options) {
  return std::chrono::duration_cast<std::chrono::microseconds>(options.poll).count();
}

bool OpenLoop(const LevelResult& level) { return level.offered_rps > 0 || level.replay; }

std::string StabilityText(const LevelResult& level) {
  if (level.replay) return "replayed";
  return level.stable ? "stable" : "UNSTABLE";
}

std::string ErrorSummary(Protocol protocol, const WindowCounters& counters) {
  std::string text;
  for (const auto& [status, count] : counters.http_errors) {
    text += fmt::format("{}{} x {}", text.empty() ? "" : ", ", StatusName(protocol, status), count);
    auto latency = counters.http_error_latency_ns.find(status);
    if (latency != counters.http_error_latency_ns.end()) {
      text += fmt::format(" (p50 {:.0f} us, p99 {:.0f} us)", Us(latency->second.Percentile(0.5)),
                          Us(latency->second.Percentile(0.99)));
    }
    auto message = counters.first_error_message.find(status);
    if (message != counters.first_error_message.end()) {
      text += fmt::format(" (first: {})", message->second);
    }
  }
  if (counters.connection_errors > 0) {
    text += fmt::format("{}connection x {} (first: {})", text.empty() ? "" : ", ",
                        counters.connection_errors, counters.first_connection_error);
  }
  return text;
}

void AppendServer(std::string& out, const LevelResult& level) {
  std::string queue = "-";
  std::string compute = "-";
  if (level.server) {
    queue = fmt::format("{:.1f}", level.server->queue_us);
    compute = fmt::format("{:.1f}", level.server->compute_infer_us);
  }
  out += fmt::format(" {:>9} {:>10}", queue, compute);
}

void AppendLatency(std::string& out, const LatencyHistogram& latency) {
  out += fmt::format(" {:>9.0f} {:>9.0f} {:>9.0f} {:>9.0f}", Us(latency.Percentile(0.50)),
                     Us(latency.Percentile(0.90)), Us(latency.Percentile(0.99)), Us(latency.max()));
}

std::string ClosedLoopRows(const std::vector<LevelResult>& levels) {
  std::string out =
      fmt::format("{:>11} {:>11} {:>11} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10} {:>8}  {}\n",
                  "concurrency", "req/s", "items/s", "p50 us", "p90 us", "p99 us", "max us",
                  "queue us", "compute us", "errors", "windows");
  for (const LevelResult& level : levels) {
    out += fmt::format("{:>11} {:>11.1f} {:>11.1f}", level.concurrency, level.RequestsPerSecond(),
                       level.ItemsPerSecond());
    AppendLatency(out, level.counters.latency_ns);
    AppendServer(out, level);
    out += fmt::format(" {:>8}  {} {}\n", level.counters.errors(), level.window_rps.size(),
                       StabilityText(level));
  }
  return out;
}

std::string OpenLoopRows(const std::vector<LevelResult>& levels) {
  std::string out =
      fmt::format("{:>10} {:>10} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10} {:>8}  {}\n",
                  "offered/s", "sent/s", "ok req/s", "p50 us", "p90 us", "p99 us", "max us", "late",
                  "queue us", "compute us", "errors", "windows");
  for (const LevelResult& level : levels) {
    out += fmt::format("{:>10.1f} {:>10.1f} {:>10.1f}", level.offered_rps, level.SentPerSecond(),
                       level.RequestsPerSecond());
    AppendLatency(out, level.counters.latency_ns);
    out += fmt::format(" {:>9}", level.counters.late);
    AppendServer(out, level);
    out += fmt::format(" {:>8}  {} {}\n", level.counters.errors(), level.window_rps.size(),
                       StabilityText(level));
  }
  return out;
}

std::string Accounting(Protocol protocol, const LevelResult& level) {
  const ProgressTotals& t = level.totals;
  const LatencyHistogram& lag = level.counters.send_lag_ns;
  std::string out = fmt::format(
      "{}: whole level: sent {} (late {}), answered {} ({} ok), connection errors {}, "
      "unanswered {}, never sent {}; send lag p50 {:.0f} us, p99 {:.0f} us, max {:.0f} us\n",
      LevelName(level), t.sent, t.late, t.answered, t.successes, t.connection_errors,
      level.Unanswered(), level.unsent, Us(lag.Percentile(0.5)), Us(lag.Percentile(0.99)),
      Us(lag.max()));
  if (!level.counters.service_ns_by_status.empty()) {
    out += fmt::format("{}: send-to-answer time by status:", LevelName(level));
    for (const auto& [status, histogram] : level.counters.service_ns_by_status) {
      out += fmt::format(" {} p50 {:.0f} us, p99 {:.0f} us;", StatusName(protocol, status),
                         Us(histogram.Percentile(0.5)), Us(histogram.Percentile(0.99)));
    }
    out.back() = '\n';
  }
  return out;
}

std::string InstanceTable(const LevelResult& level) {
  if (!level.instances) return fmt::format("{}: requests per instance: -\n", LevelName(level));
  uint64_t total = 0;
  for (const InstanceCounters& instance : *level.instances) total += instance.items;
  std::string out =
      fmt::format("{}: requests per instance over the reported windows\n", LevelName(level));
  out += fmt::format("  {:<20} {:<12} {:>10} {:>10} {:>11} {:>7}\n", "instance", "device",
                     "batches", "items", "items/batch", "share");
  for (const InstanceCounters& instance : *level.instances) {
    double per_batch = instance.batches > 0 ? static_cast<double>(instance.items) /
                                                  static_cast<double>(instance.batches)
                                            : 0;
    double share =
        total > 0 ? 100.0 * static_cast<double>(instance.items) / static_cast<double>(total) : 0;
    out += fmt::format("  {:<20} {:<12} {:>10} {:>10} {:>11.2f} {:>6.1f}%\n", instance.name,
                       instance.device, instance.batches, instance.items, per_batch, share);
  }
  return out;
}

void AppendLatencyJson(std::string& out, const LatencyHistogram& latency) {
  out += fmt::format("{{\"p50\":{:.3f},\"p90\":{:.3f},\"p99\":{:.3f},\"max\":{:.3f}}}",
                     Us(latency.Percentile(0.50)), Us(latency.Percentile(0.90)),
                     Us(latency.Percentile(0.99)), Us(latency.max()));
}

void AppendLevelJson(std::string& out, Protocol protocol, const LevelResult& level) {
  const WindowCounters& counters = level.counters;
  const LatencyHistogram& latency = counters.latency_ns;
  const LatencyHistogram& lag = counters.send_lag_ns;
  out += fmt::format(
      "{{\"concurrency\":{},\"offered_rps\":{:.3f},\"stable\":{},\"window_rps\":[{:.3f}],"
      "\"measured_s\":{:.6f},\"requests\":{},\"items\":{},\"throughput_rps\":{:.3f},"
      "\"items_per_s\":{:.3f},\"sent\":{},\"sent_rps\":{:.3f},\"late\":{},"
      "\"latency_us\":{{\"p50\":{:.3f},\"p90\":{:.3f},\"p99\":{:.3f},\"max\":{:.3f},"
      "\"mean\":{:.3f}}},\"send_lag_us\":{{\"p50\":{:.3f},\"p99\":{:.3f},\"max\":{:.3f}}},",
      level.concurrency, level.offered_rps, level.stable, fmt::join(level.window_rps, ","),
      level.reported_s, counters.successes, counters.items, level.RequestsPerSecond(),
      level.ItemsPerSecond(), counters.sent, level.SentPerSecond(), counters.late,
      Us(latency.Percentile(0.50)), Us(latency.Percentile(0.90)), Us(latency.Percentile(0.99)),
      Us(latency.max()), latency.Mean() / 1e3, Us(lag.Percentile(0.5)), Us(lag.Percentile(0.99)),
      Us(lag.max()));
  out += fmt::format("\"errors\":{{\"total\":{},\"connection\":{},\"first_connection_error\":",
                     counters.errors(), counters.connection_errors);
  out += sdk::JsonQuote(counters.first_connection_error);
  out += ",\"by_status\":{";
  bool first = true;
  for (const auto& [status, count] : counters.http_errors) {
    out += fmt::format("{}\"{}\":{}", first ? "" : ",", StatusKey(protocol, status), count);
    first = false;
  }
  out += "},\"first_message_by_status\":{";
  first = true;
  for (const auto& [status, message] : counters.first_error_message) {
    out += fmt::format("{}\"{}\":", first ? "" : ",", StatusKey(protocol, status));
    out += sdk::JsonQuote(message);
    first = false;
  }
  out += "},\"latency_us_by_status\":{";
  first = true;
  for (const auto& [status, histogram] : counters.http_error_latency_ns) {
    out += fmt::format("{}\"{}\":", first ? "" : ",", StatusKey(protocol, status));
    AppendLatencyJson(out, histogram);
    first = false;
  }
  out += "},\"service_us_by_status\":{";
  first = true;
  for (const auto& [status, histogram] : counters.service_ns_by_status) {
    out += fmt::format("{}\"{}\":", first ? "" : ",", StatusKey(protocol, status));
    AppendLatencyJson(out, histogram);
    first = false;
  }
  const ProgressTotals& t = level.totals;
  out += fmt::format(
      "}}}},\"totals\":{{\"sent\":{},\"late\":{},\"answered\":{},\"successes\":{},"
      "\"connection_errors\":{},\"unanswered\":{},\"unsent\":{}}},\"server\":",
      t.sent, t.late, t.answered, t.successes, t.connection_errors, level.Unanswered(),
      level.unsent);
  if (level.server) {
    out += fmt::format(
        "{{\"requests\":{},\"items\":{},\"executions\":{},\"queue_us\":{:.3f},"
        "\"compute_infer_us\":{:.3f}}}",
        level.server->requests, level.server->items, level.server->executions,
        level.server->queue_us, level.server->compute_infer_us);
  } else {
    out += "null";
  }
  out += ",\"instances\":";
  if (level.instances) {
    out += '[';
    for (std::size_t i = 0; i < level.instances->size(); ++i) {
      const InstanceCounters& instance = (*level.instances)[i];
      out += i > 0 ? ",{\"name\":" : "{\"name\":";
      out += sdk::JsonQuote(instance.name);
      out += ",\"device\":";
      out += sdk::JsonQuote(instance.device);
      out += fmt::format(",\"batches\":{},\"items\":{}}}", instance.batches, instance.items);
    }
    out += ']';
  } else {
    out += "null";
  }
  out += '}';
}

}  // namespace

std::string StatusKey(Protocol protocol, unsigned status) {
  if (protocol == Protocol::kHttp) return std::to_string(status);
  return std::string(GrpcCodeName(status));
}

std::string StatusName(Protocol protocol, unsigned status) {
  if (protocol == Protocol::kHttp) return fmt::format("HTTP {}", status);
  if (status == kGrpcStreamError) return "gRPC stream error_message";
  return fmt::format("gRPC {}", GrpcCodeName(status));
}

std::string LevelName(const LevelResult& level) {
  if (level.replay) return "schedule";
  if (level.offered_rps > 0) return fmt::format("rate {:g}/s", level.offered_rps);
  return fmt::format("concurrency {}", level.concurrency);
}

std::string FormatTable(const RunInfo& info, const std::vector<LevelResult>& levels) {
  const BenchOptions& options = info.options;
  bool open_loop = !levels.empty() && OpenLoop(levels.front());
  std::string out =
      fmt::format("model {} at {}, {} bodies, batch {}, {} client threads, ", options.model,
                  options.url, BodyName(options), info.items_per_request, info.threads);
  if (options.protocol == Protocol::kGrpc) {
    out += options.grpc_mode == GrpcMode::kUnary ? "gRPC unary calls, "
                                                 : "gRPC streams (one request in flight each), ";
  }
  if (options.poll > Duration::zero()) out += fmt::format("polling {} us, ", PollUs(options));
  if (open_loop) {
    out += fmt::format("open loop ({} arrivals, seed {}) on {} connections, ", ArrivalName(options),
                       options.seed, options.connections);
  }
  out += levels.empty() || !levels.front().replay
             ? fmt::format("windows of {} ms\n", options.window_ms)
             : "one window: the whole replay\n";
  out += open_loop ? OpenLoopRows(levels) : ClosedLoopRows(levels);
  for (const LevelResult& level : levels) {
    if (level.counters.errors() > 0) {
      out += fmt::format("errors at {}: {}\n", LevelName(level),
                         ErrorSummary(options.protocol, level.counters));
    }
  }
  if (open_loop) {
    for (const LevelResult& level : levels) out += Accounting(options.protocol, level);
  }
  for (const LevelResult& level : levels) out += InstanceTable(level);
  return out;
}

std::string ResultsJson(const RunInfo& info, const std::vector<LevelResult>& levels) {
  const BenchOptions& options = info.options;
  std::string out =
      "{\"url\":" + sdk::JsonQuote(options.url) + ",\"model\":" + sdk::JsonQuote(options.model);
  out += fmt::format(
      ",\"format\":\"{}\",\"batch_size\":{},\"threads\":{},\"seed\":{},\"warmup_s\":{},"
      "\"window_ms\":{},\"stability\":{},\"max_windows\":{},\"items_per_request\":{},"
      "\"mode\":\"{}\",\"arrival\":\"{}\",\"connections\":{},\"poll_us\":{},\"protocol\":\"{}\","
      "\"grpc_mode\":{},\"levels\":[",
      BodyName(options), options.batch_size, info.threads, options.seed, options.warmup_s,
      options.window_ms, options.stability, options.max_windows, info.items_per_request,
      ModeName(options.mode), ArrivalName(options), options.connections, PollUs(options),
      options.protocol == Protocol::kHttp ? "http" : "grpc",
      options.protocol == Protocol::kHttp     ? "null"
      : options.grpc_mode == GrpcMode::kUnary ? "\"unary\""
                                              : "\"stream\"");
  for (std::size_t i = 0; i < levels.size(); ++i) {
    if (i > 0) out += ',';
    AppendLevelJson(out, options.protocol, levels[i]);
  }
  out += "]}\n";
  return out;
}

}  // namespace switchyard::bench
