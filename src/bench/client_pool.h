#pragma once
// The client side of a benchmark level: client threads, each running an io_context with its
// share of the keep-alive connections, its own ArrivalProcess and its own LoadRecorder. The
// arrival process decides when each connection sends; the pool sends, times and records.

#include <memory>
#include <string>
#include <vector>

#include "bench/arrival.h"
#include "bench/http_client.h"
#include "bench/load_pool.h"
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
class ClientPool final : public LoadPool {
 public:
  // Resolves the address, starts the threads and hands every connection to the arrival process.
  // Unavailable if the address does not resolve.
  // REQUIRES: !config.bodies.empty(), config.threads >= 1, config.arrivals set
  static StatusOr<std::unique_ptr<ClientPool>> Start(PoolConfig config);

  ~ClientPool() override;  // Stop()

  WindowCounters TakeWindow() override;
  ProgressTotals Totals() const override;
  int64_t InFlight() const override;
  int64_t Backlog() const override;
  bool Finished() const override;
  // Stop() of LoadPool; waits up to config.stop_grace, then closes every connection.
  void Stop() override;

  struct Shared;
  struct ClientThread;

 private:
  explicit ClientPool(std::unique_ptr<Shared> shared);

  std::unique_ptr<Shared> shared_;
  std::vector<std::unique_ptr<ClientThread>> threads_;
  bool stopped_ = false;
};

}  // namespace switchyard::bench
