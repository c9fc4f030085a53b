#pragma once
// Relays the CancelTokens of a batch that a worker process executes to the batch's cancel flags
// in its shared-memory slot (ipc::Execute::cancel_flags), where the worker's backend reads them
// (SyHostApi::request_cancelled): request i's token writes flag i, as a SyCancelState, when its
// client goes away or its timeout passes.
//
// Lifetime: Create before the batch can be answered; SetFlags once its slot is written; Stop
// before it is answered (after Stop no flag is written, so the slot may take the next batch,
// and the tokens no longer call the relay). Thread-safety: every method from any thread.

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "core/mutex.h"
#include "switchyard/backend.h"
#include "switchyard/infer.h"

namespace switchyard {

class CancelRelay : public std::enable_shared_from_this<CancelRelay> {
 public:
  // Starts listening to the tokens of `requests` (requests without one are never cancelled).
  // A token already cancelled or expired is recorded at once.
  static std::shared_ptr<CancelRelay> Create(std::span<InferRequest* const> requests);

  // The flags, one byte per request: written now with what was recorded so far, and from then
  // on as tokens fire. No-op after Stop.
  void SetFlags(std::byte* flags) EXCLUDES(mu_);
  // Stops relaying. Idempotent.
  void Stop() EXCLUDES(mu_);

 private:
  CancelRelay() = default;
  void Mark(std::size_t index, SyCancelState state) EXCLUDES(mu_);

  Mutex mu_;
  bool stopped_ GUARDED_BY(mu_) = false;
  std::byte* flags_ GUARDED_BY(mu_) = nullptr;
  std::vector<SyCancelState> states_ GUARDED_BY(mu_);  // by request
  std::vector<std::shared_ptr<CancelToken>> tokens_ GUARDED_BY(mu_);
};

}  // namespace switchyard
