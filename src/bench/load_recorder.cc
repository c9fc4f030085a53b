#include "bench/load_recorder.h"

#include <utility>

namespace switchyard::bench {

uint64_t WindowCounters::errors() const {
  uint64_t total = connection_errors;
  for (const auto& [status, count] : http_errors) total += count;
  return total;
}

uint64_t WindowCounters::answered() const {
  uint64_t total = successes;
  for (const auto& [status, count] : http_errors) total += count;
  return total;
}

void WindowCounters::Merge(const WindowCounters& other) {
  latency_ns.Merge(other.latency_ns);
  successes += other.successes;
  items += other.items;
  for (const auto& [status, count] : other.http_errors) http_errors[status] += count;
  for (const auto& [status, histogram] : other.http_error_latency_ns) {
    http_error_latency_ns[status].Merge(histogram);
  }
  connection_errors += other.connection_errors;
  if (first_connection_error.empty()) first_connection_error = other.first_connection_error;
  for (const auto& [status, message] : other.first_error_message) {
    first_error_message.try_emplace(status, message);
  }
  for (const auto& [status, histogram] : other.service_ns_by_status) {
    service_ns_by_status[status].Merge(histogram);
  }
  sent += other.sent;
  late += other.late;
  send_lag_ns.Merge(other.send_lag_ns);
}

void ProgressTotals::Add(const ProgressTotals& other) {
  successes += other.successes;
  errors += other.errors;
  sent += other.sent;
  late += other.late;
  answered += other.answered;
  connection_errors += other.connection_errors;
}

namespace {

uint64_t Ns(Duration d) { return d.count() > 0 ? static_cast<uint64_t>(d.count()) : 0; }

}  // namespace

void LoadRecorder::RecordSent(Duration lag, bool late) {
  MutexLock lock(&mu_);
  window_.send_lag_ns.Record(Ns(lag));
  ++window_.sent;
  ++totals_.sent;
  if (late) {
    ++window_.late;
    ++totals_.late;
  }
}

void LoadRecorder::RecordSuccess(unsigned http_status, Duration latency, Duration service,
                                 int64_t items) {
  MutexLock lock(&mu_);
  window_.service_ns_by_status[http_status].Record(Ns(service));
  window_.latency_ns.Record(Ns(latency));
  ++window_.successes;
  window_.items += static_cast<uint64_t>(items);
  ++totals_.successes;
  ++totals_.answered;
}

void LoadRecorder::RecordHttpError(unsigned http_status, Duration latency, Duration service,
                                   std::string_view message) {
  MutexLock lock(&mu_);
  if (!message.empty()) window_.first_error_message.try_emplace(http_status, message);
  window_.service_ns_by_status[http_status].Record(Ns(service));
  ++window_.http_errors[http_status];
  window_.http_error_latency_ns[http_status].Record(Ns(latency));
  ++totals_.errors;
  ++totals_.answered;
}

void LoadRecorder::RecordConnectionError(const Status& cause) {
  MutexLock lock(&mu_);
  if (window_.first_connection_error.empty()) window_.first_connection_error = cause.ToString();
  ++window_.connection_errors;
  ++totals_.errors;
  ++totals_.connection_errors;
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
