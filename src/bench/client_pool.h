#pragma once
// The client side of a benchmark level: client threads, each running an io_context with its
// share of the keep-alive connections, its own ArrivalProcess and its own LoadRecorder. The
// arrival process decides when each connection sends; the pool sends, times and records.

#include <memory>
#include <string>
#include <vector>

#include "bench/arrival.h"
#include "bench/http_client.h"
#include "bench/load_recorder.h"
#include "bench/request_builder.h"
#include "switchyard/status.h"

namespace switchyard::bench {

struct PoolConfig {
  ServerAddress address;
  std::string target;                // e.g. "/v2/models/simple/infer"
  std::vector<PreparedBody> bodies;  // one per connection; its size is the concurrency
  int64_t items_per_request = 1;
  int threads = 1;  // capped at the number of connections
  Duration poll{};  // each thread polls this long after an event before it sleeps (RunPolling)
  Duration request_timeout = std::chrono::seconds(60);  // a longer request is an error
  Duration stop_grace = std::chrono::seconds(1);        // Stop() waits this long for answers
  ArrivalFactory arrivals;                              // called once per client thread
};

// Thread-safety: all methods are called from one controlling thread.
class ClientPool {
 public:
  // Resolves the address, starts the threads and hands every connection to the arrival process.
  // Unavailable if the address does not resolve.
  // REQUIRES: !config.bodies.empty(), config.threads >= 1, config.arrivals set
  static StatusOr<std::unique_ptr<ClientPool>> Start(PoolConfig config);

  ~ClientPool();  // Stop()

  // The counters since the previous call (or since Start), merged over threads; resets them.
  WindowCounters TakeWindow();
  // Running totals since Start, for progress lines and the level's accounting.
  ProgressTotals Totals() const;
  // Requests sent and not yet answered or failed.
  int64_t InFlight() const;
  // Arrivals due but still waiting for a free connection (open loop), over all threads.
  int64_t Backlog() const;
  // True when every thread's arrival process has finished (a replayed schedule is done) and
  // nothing is in flight. A closed loop never finishes.
  bool Finished() const;

  // Sends nothing more, waits (up to config.stop_grace) for outstanding requests (answers that
  // arrive meanwhile still count in Totals()), then closes every connection (what is still
  // outstanding is abandoned, not recorded) and joins the threads. Arrivals still waiting for a
  // connection are never sent (see Backlog()). Idempotent.
  void Stop();

  struct Shared;
  struct ClientThread;

 private:
  explicit ClientPool(std::unique_ptr<Shared> shared);

  std::unique_ptr<Shared> shared_;
  std::vector<std::unique_ptr<ClientThread>> threads_;
  bool stopped_ = false;
};

}  // namespace switchyard::bench
