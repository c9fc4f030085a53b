#include "bench/load_recorder.h"

#include <utility>

namespace switchyard::bench {

uint64_t WindowCounters::errors() const {
  uint64_t total = connection_errors;
  for (const auto& [status, count] : http_errors) total += count;
  return total;
}

void WindowCounters::Merge(const WindowCounters& other) {
  latency_ns.Merge(other.latency_ns);
  successes += other.successes;
  items += other.items;
  for (const auto& [status, count] : other.http_errors) http_errors[status] += count;
  connection_errors += other.connection_errors;
  if (first_connection_error.empty()) first_connection_error = other.first_connection_error;
}

void LoadRecorder::RecordSuccess(Duration latency, int64_t items) {
  MutexLock lock(&mu_);
  window_.latency_ns.Record(static_cast<uint64_t>(latency.count()));
  ++window_.successes;
  window_.items += static_cast<uint64_t>(items);
  ++totals_.successes;
}

void LoadRecorder::RecordHttpError(unsigned http_status) {
  MutexLock lock(&mu_);
  ++window_.http_errors[http_status];
  ++totals_.errors;
}

void LoadRecorder::RecordConnectionError(const Status& cause) {
  MutexLock lock(&mu_);
  if (window_.first_connection_error.empty()) window_.first_connection_error = cause.ToString();
  ++window_.connection_errors;
  ++totals_.errors;
}

WindowCounters LoadRecorder::TakeWindow() {
  MutexLock lock(&mu_);
  return std::exchange(window_, WindowCounters());
}

ProgressTotals LoadRecorder::Totals() const {
  MutexLock lock(&mu_);
  return totals_;
}

}  // namespace switchyard::bench
