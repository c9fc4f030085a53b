#pragma once
// The arrival process: when each client connection sends its next request. The client pool owns
// the connections and the recording; an ArrivalProcess only decides timing, so closed loop
// (here) and open loop with Poisson arrivals (`--request-rate`) are interchangeable.

namespace switchyard::bench {

// One client connection as an arrival process sees it.
class LoadSession {
 public:
  virtual ~LoadSession() = default;
  // Sends the session's prepared request now.
  // REQUIRES: called on the session's client thread while the session is idle.
  virtual void Send() = 0;
};

class ArrivalProcess {
 public:
  virtual ~ArrivalProcess() = default;
  // Called on the session's client thread when load starts and each time the session becomes
  // idle (its request was answered or failed), until the pool stops. Calls for sessions on
  // different client threads may run concurrently.
  virtual void OnIdle(LoadSession& session) = 0;
};

// Closed loop: each session sends again as soon as its answer arrives, so exactly one request
// per connection is outstanding. Stateless, so thread-safe.
class ClosedLoop final : public ArrivalProcess {
 public:
  void OnIdle(LoadSession& session) override { session.Send(); }
};

}  // namespace switchyard::bench
