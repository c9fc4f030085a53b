#pragma once
// What the clients of one client thread observed: latency of successful requests and errors by
// kind. The runner takes the counters at each window boundary; a progress reader peeks at
// running totals.

#include <cstdint>
#include <map>
#include <string>

#include "bench/latency_histogram.h"
#include "core/mutex.h"
#include "switchyard/clock.h"
#include "switchyard/status.h"

namespace switchyard::bench {

struct WindowCounters {
  LatencyHistogram latency_ns;  // successful (2xx) requests only
  uint64_t successes = 0;
  uint64_t items = 0;                        // batch items of successful requests
  std::map<unsigned, uint64_t> http_errors;  // non-2xx answers by HTTP status
  uint64_t connection_errors = 0;            // connect/read/write failures and timeouts
  std::string first_connection_error;        // the message of the first one, if any

  uint64_t errors() const;
  void Merge(const WindowCounters& other);
};

// Totals since the recorder was made, for progress lines.
struct ProgressTotals {
  uint64_t successes = 0;
  uint64_t errors = 0;
};

// Thread-safe; written by one client thread, read by the runner. The lock is uncontended except
// at window boundaries and progress peeks.
class LoadRecorder {
 public:
  void RecordSuccess(Duration latency, int64_t items) EXCLUDES(mu_);
  // REQUIRES: http_status is not 2xx
  void RecordHttpError(unsigned http_status) EXCLUDES(mu_);
  // REQUIRES: !cause.ok()
  void RecordConnectionError(const Status& cause) EXCLUDES(mu_);

  // The counters since the previous call (or since construction); resets them.
  WindowCounters TakeWindow() EXCLUDES(mu_);
  ProgressTotals Totals() const EXCLUDES(mu_);

 private:
  mutable Mutex mu_;
  WindowCounters window_ GUARDED_BY(mu_);
  ProgressTotals totals_ GUARDED_BY(mu_);
};

}  // namespace switchyard::bench
