#pragma once
// The supervision state machine of one worker-process instance: when a worker is silent,
// stopped or over its execution timeout, and when and how often a lost worker is restarted.
// Pure: every decision takes the time it is made at (from the instance's Clock), so the policy
// is unit-tested with a FakeClock; the instance does the I/O (pings, kills, spawns) and feeds
// back what happened. Not thread-safe: the instance calls it under its own lock.

#include <optional>

#include "switchyard/clock.h"

namespace switchyard {

struct SupervisionOptions {
  Duration heartbeat_interval = std::chrono::seconds(1);  // between pings
  Duration heartbeat_timeout = std::chrono::seconds(10);  // silent this long: lost
  Duration execution_timeout{};                           // one batch at most; zero: no limit
  Duration restart_backoff = std::chrono::milliseconds(100);
  Duration max_restart_backoff = std::chrono::seconds(10);
  int max_failed_restarts = 5;  // consecutive starts that never became ready
};

class WorkerSupervision {
 public:
  explicit WorkerSupervision(SupervisionOptions options)
      : options_(options), backoff_(options.restart_backoff) {}

  // ---- A worker that is up ----

  // A worker became ready (the first, or a restart): it was heard now, and the restart backoff
  // and the count of failed restarts start over.
  void WorkerReady(TimePoint now);
  // The worker spoke (a result, a pong, a busy heartbeat).
  void Heard(TimePoint now) { last_heard_ = now; }
  // Whether the worker is late enough (two heartbeat intervals) that the instance should ask
  // the system whether it is stopped (SIGSTOP): a stopped worker is replaced at once, not after
  // the heartbeat timeout.
  bool ShouldCheckStopped(TimePoint now) const {
    return now - last_heard_ > 2 * options_.heartbeat_interval;
  }
  enum class Verdict { kAlive, kStopped, kSilent };
  // kStopped when `stopped` (what the check above found), kSilent when nothing was heard for the
  // heartbeat timeout, else kAlive. A verdict other than kAlive counts as heard now, so the
  // worker is condemned once (the instance kills it; its loss is reported by its reader).
  Verdict Check(TimePoint now, bool stopped);
  // How long the worker has been silent.
  Duration Silence(TimePoint now) const { return now - last_heard_; }
  // Whether a batch executing since `since` is past the execution timeout.
  bool ExecutionTimedOut(TimePoint since, TimePoint now) const {
    return options_.execution_timeout > Duration::zero() &&
           now - since > options_.execution_timeout;
  }

  // ---- A worker that is down ----

  // The worker was lost: the next start is due after the current backoff.
  void WorkerLost(TimePoint now) { restart_at_ = now + backoff_; }
  bool RestartDue(TimePoint now) const { return now >= restart_at_; }
  TimePoint restart_at() const { return restart_at_; }
  enum class AfterFailedStart { kRetry, kGiveUp };
  // A start failed. The backoff doubles (up to its maximum) and the next start is due after it.
  // A `transient` failure (the system short of descriptors, processes or memory) does not count
  // toward max_failed_restarts; kGiveUp once the others reach it.
  AfterFailedStart StartFailed(TimePoint now, bool transient);

  Duration backoff() const { return backoff_; }
  int failed_restarts() const { return failed_restarts_; }

 private:
  const SupervisionOptions options_;
  TimePoint last_heard_{};
  TimePoint restart_at_{};
  Duration backoff_;
  int failed_restarts_ = 0;
};

}  // namespace switchyard
