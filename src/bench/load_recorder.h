#pragma once
// What the clients of one client thread observed: requests sent (late or not), latency of
// answered requests by outcome, and errors by kind. Latency runs from the time a request was due
// (its send time in closed loop). The runner takes the counters at each window boundary; a
// progress reader peeks at running totals.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "bench/latency_histogram.h"
#include "core/mutex.h"
#include "switchyard/clock.h"
#include "switchyard/status.h"

namespace switchyard::bench {

// An answer's status is its HTTP status, or over gRPC its status code (0 OK; kGrpcStreamError
// for a stream response that carries an error_message): report.h names them by protocol.
struct WindowCounters {
  LatencyHistogram latency_ns;  // successful (2xx, gRPC OK) requests only
  uint64_t successes = 0;
  uint64_t items = 0;                                          // batch items of successful requests
  std::map<unsigned, uint64_t> http_errors;                    // error answers by status
  std::map<unsigned, LatencyHistogram> http_error_latency_ns;  // the same, their latency
  // The text of the first error answer of each status that came with one (gRPC messages).
  std::map<unsigned, std::string> first_error_message;
  uint64_t connection_errors = 0;      // connect/read/write failures and timeouts
  std::string first_connection_error;  // the message of the first one, if any
  uint64_t sent = 0;                   // requests sent
  uint64_t late = 0;                   // of those, sent late (no connection was free when due)
  LatencyHistogram send_lag_ns;        // send time minus due time, every sent request
  // Answer time minus send time (the server's response time as the client saw it, without the
  // wait for a connection), of every HTTP answer by status, 2xx included.
  std::map<unsigned, LatencyHistogram> service_ns_by_status;

  uint64_t errors() const;
  // Requests that got an HTTP answer, whatever its status.
  uint64_t answered() const;
  void Merge(const WindowCounters& other);
};

// The status under which a gRPC stream response with an error_message is counted (the stream
// carries no status code for it).
inline constexpr unsigned kGrpcStreamError = 1000;

// Totals since the recorder was made, for progress lines and the level's accounting.
struct ProgressTotals {
  uint64_t successes = 0;
  uint64_t errors = 0;  // HTTP errors and connection errors
  uint64_t sent = 0;
  uint64_t late = 0;
  uint64_t answered = 0;  // HTTP answers of any status
  uint64_t connection_errors = 0;

  void Add(const ProgressTotals& other);
};

// Thread-safe; written by one client thread, read by the runner. The lock is uncontended except
// at window boundaries and progress peeks.
class LoadRecorder {
 public:
  // `lag`: send time minus due time; `late`: no connection was free when the request was due.
  void RecordSent(Duration lag, bool late) EXCLUDES(mu_);
  // `latency` runs from the due time, `service` from the send.
  void RecordSuccess(unsigned http_status, Duration latency, Duration service, int64_t items)
      EXCLUDES(mu_);
  // An error answer; `message` (may be empty) is kept if it is the first of its status.
  // REQUIRES: http_status is not a success (2xx; gRPC OK)
  void RecordHttpError(unsigned http_status, Duration latency, Duration service,
                       std::string_view message = {}) EXCLUDES(mu_);
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
