#pragma once
// The client side of a benchmark level as the level runner drives it, whatever the protocol:
// ClientPool (HTTP/1.1, client_pool.h) and the gRPC pool (grpc_transport.h) implement it.

#include <cstdint>

#include "bench/load_recorder.h"

namespace switchyard::bench {

// Thread-safety: all methods are called from one controlling thread.
class LoadPool {
 public:
  virtual ~LoadPool() = default;

  // The counters since the previous call (or since the start), merged over threads; resets them.
  virtual WindowCounters TakeWindow() = 0;
  // Running totals since the start, for progress lines and the level's accounting.
  virtual ProgressTotals Totals() const = 0;
  // Requests sent and not yet answered or failed.
  virtual int64_t InFlight() const = 0;
  // Arrivals due but still waiting for a free client (open loop), over all threads.
  virtual int64_t Backlog() const = 0;
  // True when every thread's arrival process has finished (a replayed schedule is done) and
  // nothing is in flight. A closed loop never finishes.
  virtual bool Finished() const = 0;
  // Sends nothing more, waits (up to the pool's stop grace) for outstanding requests (answers
  // that arrive meanwhile still count in Totals()), then abandons what is still outstanding (not
  // recorded) and joins the threads. Arrivals still waiting for a client are never sent (see
  // Backlog()). Idempotent.
  virtual void Stop() = 0;
};

}  // namespace switchyard::bench
