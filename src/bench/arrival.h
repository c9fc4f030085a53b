#pragma once
// The arrival process: when each client connection sends its next request. The client pool owns
// the connections and the recording; an ArrivalProcess only decides timing, so closed loop
// (here) and open loop (open_loop.h: Poisson, constant or replayed arrivals) are
// interchangeable. The pool makes one ArrivalProcess per client thread; each is driven only from
// its thread, except the methods marked thread-safe.

#include <cstdint>
#include <functional>
#include <memory>

#include "switchyard/clock.h"

namespace switchyard::bench {

// What a session is asked to send: the time the request was due, from which its latency is
// measured (so time spent waiting for a free connection counts, and coordinated omission does
// not hide it), and whether it was late (no connection was free when it came due).
struct Arrival {
  TimePoint due;
  bool late = false;
};

// One client connection as an arrival process sees it.
class LoadSession {
 public:
  virtual ~LoadSession() = default;
  // Sends the session's prepared request now; its latency is measured from `arrival.due`.
  // REQUIRES: called on the session's client thread while the session is idle.
  virtual void Send(const Arrival& arrival) = 0;
};

// The pool's services to the arrival process of one client thread.
class ArrivalContext {
 public:
  virtual ~ArrivalContext() = default;
  virtual TimePoint Now() const = 0;
  // Calls the process's OnTimer() on its thread at (or soon after) `when`; replaces a wake-up
  // that is still pending. A `when` in the past wakes at once (never inside WakeAt itself).
  virtual void WakeAt(TimePoint when) = 0;
};

class ArrivalProcess {
 public:
  virtual ~ArrivalProcess() = default;
  // Called once on the thread when load starts, before any OnIdle; `context` outlives the
  // process's use of it.
  virtual void Start(ArrivalContext& context) { (void)context; }
  // Called when load starts (for each session, after Start) and each time a session becomes
  // idle (its request was answered or failed), until the pool stops.
  virtual void OnIdle(LoadSession& session) = 0;
  // A wake-up asked for with ArrivalContext::WakeAt.
  virtual void OnTimer() {}

  // Thread-safe. True when the process will send nothing more: its arrivals are exhausted and
  // none is waiting for a connection. A closed loop never finishes.
  virtual bool Finished() const { return false; }
  // Thread-safe. Arrivals that came due but are still waiting for a free connection.
  virtual int64_t Backlog() const { return 0; }
};

// Makes the arrival process of client thread `thread` of `threads` (0-based).
using ArrivalFactory = std::function<std::unique_ptr<ArrivalProcess>(int thread, int threads)>;

// Closed loop: each session sends again as soon as its answer arrives, so exactly one request
// per connection is outstanding; latency is measured from the send.
class ClosedLoop final : public ArrivalProcess {
 public:
  void Start(ArrivalContext& context) override { context_ = &context; }
  void OnIdle(LoadSession& session) override { session.Send({context_->Now(), false}); }

  static ArrivalFactory Factory() {
    return [](int, int) { return std::make_unique<ClosedLoop>(); };
  }

 private:
  ArrivalContext* context_ = nullptr;
};

}  // namespace switchyard::bench
