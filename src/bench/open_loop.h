#pragma once
// Open loop: requests come due on an arrival schedule, whatever the server does, so the latency
// under a given load is measured without coordinated omission. Each due arrival is sent at once
// on an idle connection; when every connection is busy it is late: it waits (first come, first
// served) for the next connection to become idle and is then sent, its latency still measured
// from the time it came due.

#include <atomic>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "bench/arrival.h"
#include "bench/arrival_schedule.h"

namespace switchyard::bench {

// The arrival process of one client thread. Driven from that thread only, except Finished() and
// Backlog(), which are thread-safe.
class OpenLoop final : public ArrivalProcess {
 public:
  explicit OpenLoop(std::unique_ptr<ArrivalSchedule> schedule) : schedule_(std::move(schedule)) {}

  // Load starts at context.Now(): offsets count from there.
  void Start(ArrivalContext& context) override;
  void OnIdle(LoadSession& session) override;
  void OnTimer() override;
  bool Finished() const override;
  int64_t Backlog() const override;

  // Makes an OpenLoop per client thread, each with its share of `spec` (SplitSchedule).
  static ArrivalFactory Factory(ArrivalSpec spec);

 private:
  // Sends or queues every arrival due by now, then asks to be woken for the next one.
  void Advance();
  void Dispatch(TimePoint due);

  std::unique_ptr<ArrivalSchedule> schedule_;
  ArrivalContext* context_ = nullptr;
  TimePoint start_;
  std::optional<TimePoint> next_due_;   // nullopt: the schedule is exhausted
  std::vector<LoadSession*> idle_;      // most recently idle last: reused first (still connected)
  std::deque<TimePoint> late_;          // due, no connection was free
  std::atomic<int64_t> backlog_{0};     // late_.size(), for other threads
  std::atomic<bool> exhausted_{false};  // !next_due_, for other threads
};

}  // namespace switchyard::bench
